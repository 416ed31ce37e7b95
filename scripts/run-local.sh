#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole system locally with the demo province; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m deploy.local.stack "$@"
