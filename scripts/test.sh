#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test tier against real Kafka and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -p no:cacheprovider -q "$@"
