"""Keycloak's start time and memory, as the local stack and the tests run it: `python -m bench.keycloak`.

Starts deploy/keycloak/keycloak.sh (production mode, `start --optimized`) on a new database of a throwaway
PostgreSQL: first on an empty database (the schema is created and both realms imported), then again on the
same database (what every later start of the local stack does); with the JDK keycloak.sh picks (Temurin 25
when present), or the one in KEYCLOAK_JAVA_HOME. Prints wall-clock seconds to "ready" (the realm answers),
the JVM's resident memory just after, and the machine's load average (a busy machine starts it slower).
"""

import json
import os
import secrets
import shutil
import time
from typing import Any

from deploy.keycloak.keycloak_runner import LocalKeycloak
from tests import harness


def main() -> None:
    results: dict[str, Any] = {
        "java_home": os.environ.get("KEYCLOAK_JAVA_HOME", "keycloak.sh's choice (Temurin 25 if present)")
    }
    with harness.postgres() as server:
        database = f"kc_bench_{secrets.token_hex(4)}"
        harness.create_database(server, database)
        keycloak = LocalKeycloak(
            harness.scratch_dir("otop-kc-bench-"),
            harness.free_port(),
            server.rsplit("/", 1)[0] + f"/{database}",
            admin_username="bench-administrator",
            admin_password=secrets.token_urlsafe(24),
            sales_client_secret=secrets.token_urlsafe(32),
        )
        try:
            for run in ("first start (empty database)", "restart (existing database)"):
                load = os.getloadavg()[0]
                started = time.monotonic()
                keycloak.start()
                seconds = time.monotonic() - started
                rss_mb = keycloak.rss_bytes() / 2**20
                results[run] = {
                    "seconds": round(seconds, 1),
                    "rss_mb": round(rss_mb),
                    "load_1min": round(load, 1),
                }
                print(
                    f"{run:<32} {seconds:6.1f} s   RSS {rss_mb:5.0f} MB   (load average {load:.1f})",
                    flush=True,
                )
                keycloak.stop()
        finally:
            keycloak.stop()
            shutil.rmtree(keycloak.data_dir, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
