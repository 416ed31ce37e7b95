#!/usr/bin/env bash
# The benchmark in one command: sets up (scripts/setup.sh), then `python -m bench` with any arguments,
# e.g. `bash bench/run.sh --report-sales 10000000`. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec .venv/bin/python -m bench "$@"
