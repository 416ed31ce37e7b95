#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (idempotent; a second run takes seconds):
# Java + Maven (Kafka jars), PostgreSQL server binaries, Pango and a Thai font (report PDFs), chromium +
# chromedriver + Thai fonts (the dashboard's browser test), Prometheus (the local stack's --with-prometheus and
# promtool), a Python 3.11 virtualenv with pinned packages, and the Apache Kafka jars from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
# The dashboard's browser test: Debian's chromium with its matching driver, and Thai fonts to render the page.
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
[ -d /usr/share/fonts/truetype/tlwg ] || need_apt+=(fonts-thai-tlwg)
# The monitoring report's PDF: Pango for WeasyPrint, and the Thai font it embeds (services/monitoring/report/pdf.py).
ls /usr/lib/*/libpangoft2-1.0.so.0 >/dev/null 2>&1 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/arundina/ArundinaSans.ttf ] || need_apt+=(fonts-arundina)
# Prometheus (and promtool) for the local stack's --with-prometheus and the tests of its scrape config.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.sha
if [ ! -f "$stamp" ] || [ "$(sha256sum requirements.txt pyproject.toml | sha256sum)" != "$(cat "$stamp")" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  sha256sum requirements.txt pyproject.toml | sha256sum >"$stamp"
fi

bash deploy/kafka/kafka.sh fetch
