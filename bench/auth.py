"""What checking a bearer token costs a service per request, with the issuer's keys cached:
`python -m bench.auth [--tokens 20000]`.

Measured in one run, on one 2048-bit RSA key (Keycloak's default) served as a JWKS by a local HTTP server:
- verify: shared.auth.TokenVerifier.verify, the services' path (header and issuer checked, the key looked up
  in the cache, signature, expiry, audience and issuer verified, the principal built);
- baseline rs256: PyJWT's jwt.decode of the same token with the key in hand (the floor: the signature and
  claim checks alone);
- before (hs256): PyJWT's jwt.decode of an HS256 token with a shared secret, what every request cost before.
Each figure is the median of 5 rounds, in microseconds per token; CPU time, so it hardly depends on what
else runs on the machine.
"""

import argparse
import asyncio
import json
import secrets
import statistics
import time
from types import SimpleNamespace

import jwt

from shared.auth import TokenVerifier
from tests.issuer import LocalIssuer


def _per_token_us(run, count: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.process_time()
        run(count)
        rounds.append((time.process_time() - started) / count * 1e6)
    return statistics.median(rounds)


def measure(count: int = 20_000) -> dict:
    issuer = LocalIssuer()
    try:
        settings = SimpleNamespace(
            oidc_issuer=issuer.issuer,
            oidc_jwks_url=issuer.jwks_url,
            oidc_audience="otop-api",
            oidc_integration_issuer=None,
            oidc_integration_jwks_url=None,
            oidc_clock_skew_s=5,
        )
        token = issuer.token("province_officer", "72", ttl_s=3600)
        key = issuer.keys[issuer.kid].public_key()
        secret = secrets.token_urlsafe(32)
        hs256 = jwt.encode(issuer.claims("province_officer", "72", ttl_s=3600), secret, algorithm="HS256")

        async def verified(n: int) -> None:
            for _ in range(n):
                await verifier.verify(token)

        loop = asyncio.new_event_loop()
        verifier = TokenVerifier.from_settings(settings)
        try:
            loop.run_until_complete(verifier.verify(token))  # fetches and caches the keys
            fetches = issuer.fetches
            verify_us = _per_token_us(lambda n: loop.run_until_complete(verified(n)), count)
            assert issuer.fetches == fetches, "the keys were fetched again while cached"
        finally:
            loop.run_until_complete(verifier.aclose())
            loop.close()

        def rs256(n: int) -> None:
            for _ in range(n):
                jwt.decode(token, key, algorithms=["RS256"], audience="otop-api", issuer=issuer.issuer)

        def before(n: int) -> None:
            for _ in range(n):
                jwt.decode(hs256, secret, algorithms=["HS256"], audience="otop-api", issuer=issuer.issuer)

        return {
            "tokens": count,
            "verify_us": verify_us,
            "baseline_rs256_us": _per_token_us(rs256, count),
            "before_hs256_us": _per_token_us(before, count),
            "key_fetches": issuer.fetches,
        }
    finally:
        issuer.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens checked per round")
    results = measure(parser.parse_args().tokens)
    rows = [
        ("verify (services' path, cached JWKS)", results["verify_us"]),
        ("baseline: PyJWT RS256 decode, key in hand", results["baseline_rs256_us"]),
        ("before: PyJWT HS256 decode, shared secret", results["before_hs256_us"]),
    ]
    for name, us in rows:
        print(f"{name:<44} {us:8.1f} µs per token")
    print(f"{'verify / baseline':<44} {results['verify_us'] / results['baseline_rs256_us']:8.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
