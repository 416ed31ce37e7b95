"""The token verification benchmark (bench/auth.py) at a small size, so it cannot rot: it measures the
services' path against bare PyJWT in the same run, and the keys stay cached while it does."""

from bench.auth import measure


def test_verifying_a_token_with_cached_keys_costs_little_more_than_the_signature_check():
    results = measure(count=500)
    print(
        f"\nverify {results['verify_us']:.0f} µs, PyJWT RS256 {results['baseline_rs256_us']:.0f} µs, "
        f"HS256 before {results['before_hs256_us']:.0f} µs per token"
    )
    assert results["key_fetches"] == 1  # fetched once, then cached
    assert 0 < results["baseline_rs256_us"] <= results["verify_us"] < 3 * results["baseline_rs256_us"]
    assert results["verify_us"] < 5_000  # a request's budget is milliseconds
