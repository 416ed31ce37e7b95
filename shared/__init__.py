"""Contracts and reliability plumbing shared by every OTOP Mobile service."""
