"""Stored forms of generated secrets (integration keys, client secrets): framework-free, so a domain
can check one without pulling in the web framework."""

import hmac
import secrets
from hashlib import sha256


def hash_secret(secret: str) -> str:
    """Stored form of a high-entropy generated secret (never store the secret itself)."""
    return sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def new_secret() -> str:
    """A generated secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)
