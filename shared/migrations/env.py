"""Alembic's environment for every service: runs on the connection and metadata shared.migrations hands
over."""

from shared.migrations import run_env

run_env()
