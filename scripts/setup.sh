#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (idempotent; a second run takes seconds):
# Java + Maven (Kafka jars), PostgreSQL server binaries, Pango and a Thai font (report PDFs), chromium +
# chromedriver + Thai fonts (the browser tests), Prometheus (promtool, --with-prometheus), a Python 3.11 virtualenv with pinned
# packages, the Apache Kafka jars and the Keycloak distribution from Maven Central.
# kustomize from the Go module proxy (the Kubernetes manifests' offline check).
# The web gateway: nginx, and the web application (web/) built from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)  # the Keycloak distribution is a zip
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)  # the Kafka TLS listener's CA and certificate
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
# The browser tests (tests/web): Debian's chromium with its matching driver, and Thai fonts to render the pages.
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
[ -d /usr/share/fonts/truetype/tlwg ] || need_apt+=(fonts-thai-tlwg)
# The monitoring report's PDF: Pango for WeasyPrint, and the Thai font it embeds (services/monitoring/report/pdf.py).
ls /usr/lib/*/libpangoft2-1.0.so.0 >/dev/null 2>&1 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/arundina/ArundinaSans.ttf ] || need_apt+=(fonts-arundina)
# The public artefacts (services/publicity/media): Pillow lays out Thai (vowels and tone marks) with libraqm.
ls /usr/lib/*/libraqm.so.0 >/dev/null 2>&1 || need_apt+=(libraqm0)
# The web gateway (deploy/gateway/): Debian's nginx serves the app and the APIs under one origin.
[ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# Prometheus: promtool checks the alert rules (deploy/prometheus/alerts.yml) and the scrape config; the local
# stack's --with-prometheus runs the server.
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

# kustomize renders deploy/k8s for the offline schema check (tests/deploy/test_k8s_schemas.py): built once from
# the Go module proxy with the machine's Go (1.22 or newer) into ~/.cache/otop-tools/bin.
tools=${OTOP_TOOLS_DIR:-$HOME/.cache/otop-tools}
kustomize_version=v5.6.0
if [ "$(cat "$tools/kustomize.version" 2>/dev/null)" != "$kustomize_version" ] || [ ! -x "$tools/bin/kustomize" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { echo "setup: Go is needed to build kustomize (https://go.dev/dl or the machine's image)" >&2; exit 1; }
  echo "setup: building kustomize $kustomize_version (Go module proxy)"
  GOBIN="$tools/bin" GOFLAGS=-buildvcs=false nice -n 10 "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
  echo "$kustomize_version" >"$tools/kustomize.version"
fi

# The web application (web/): installed from the npm registry by its lockfile and built into web/dist, again
# only when the lockfile or a source changed.
web_stamp=web/.build-stamp
web_sum=$(cd web && find package.json package-lock.json index.html vite.config.ts tsconfig.json src public -type f \
          -print0 | sort -z | xargs -0 sha256sum | sha256sum)
if [ ! -f web/dist/index.html ] || [ ! -f "$web_stamp" ] || [ "$web_sum" != "$(cat "$web_stamp")" ]; then
  echo "setup: building the web application (npm ci, vite build)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent >/dev/null)
  echo "$web_sum" >"$web_stamp"
fi
# Keycloak (identity provider) from Maven Central, built once for production mode (deploy/keycloak/keycloak.sh).
bash deploy/keycloak/keycloak.sh fetch
