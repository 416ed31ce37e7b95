"""What Keycloak's connection check costs (issue 21: `validate-on-borrow` with `SELECT 1`,
deploy/keycloak/quarkus.properties), against what a login costs:

    OTOP_KEYCLOAK_URL=http://127.0.0.1:8180/auth KEYCLOAK_ADMIN=... KEYCLOAK_ADMIN_PASSWORD=... \\
    OTOP_KEYCLOAK_DATABASE_URL=postgresql://postgres@127.0.0.1:15432/keycloak python -m bench.keycloak_pool

Prints the median and 90th percentile of 40 sequential password grants (a province officer made for it) and
of 1,000 `SELECT 1` round trips to Keycloak's database, and the machine's load average.
"""

import asyncio
import json
import os
import secrets
import statistics
import time

import asyncpg

from deploy.keycloak.admin import KeycloakAdmin, password_grant
from deploy.keycloak.realm import CLI_CLIENT, REALM


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)] * 1000, 3),
    }


async def round_trips(database_url: str, count: int = 1000) -> list[float]:
    connection = await asyncpg.connect(database_url)
    try:
        seconds = []
        for _ in range(count):
            began = time.perf_counter()
            await connection.fetchval("SELECT 1")
            seconds.append(time.perf_counter() - began)
        return seconds
    finally:
        await connection.close()


def main() -> None:
    url = os.environ["OTOP_KEYCLOAK_URL"].rstrip("/")
    admin = KeycloakAdmin(url, os.environ["KEYCLOAK_ADMIN"], os.environ["KEYCLOAK_ADMIN_PASSWORD"])
    password = secrets.token_urlsafe(18)
    admin.ensure_user(
        REALM, "bench-pool", password, roles=["province_officer"], province="72", reset_password=True
    )
    admin.close()
    token_url = f"{url}/realms/{REALM}/protocol/openid-connect/token"
    logins = []
    for _ in range(40):
        began = time.perf_counter()
        password_grant(token_url, CLI_CLIENT, "bench-pool", password)
        logins.append(time.perf_counter() - began)
    selects = asyncio.run(round_trips(os.environ["OTOP_KEYCLOAK_DATABASE_URL"]))
    print(
        json.dumps(
            {
                "login": percentiles(logins),
                "select_1": percentiles(selects),
                "load_average": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
