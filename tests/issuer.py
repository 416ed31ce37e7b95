"""An RS256 token issuer for unit tests and the verification benchmark: its own RSA keys, published as a
JWKS by a real HTTP server on loopback, and access tokens shaped like Keycloak's. Services check its
tokens exactly as they check Keycloak's (same code, real cryptography); only the keys differ."""

import itertools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# Making a 2048-bit key takes a noticeable time: issuers take theirs from a pool, in turn (distinct within a
# test, which uses fewer than 16).
_pool: list[rsa.RSAPrivateKey] = []
_turn = itertools.count()


def pooled_key() -> rsa.RSAPrivateKey:
    index = next(_turn) % 16
    if index == len(_pool):
        _pool.append(rsa_key())
    return _pool[index]


class LocalIssuer:
    def __init__(self, issuer: str = "https://login.otop.test/auth/realms/otop", audience: str = "otop-api"):
        self.issuer, self.audience = issuer, audience
        self.keys: dict[str, rsa.RSAPrivateKey] = {uuid.uuid4().hex: pooled_key()}
        self._encryption_key = pooled_key()
        self.fetches = 0
        self.delay_s = 0.0
        self.down = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.fetches += 1
                time.sleep(outer.delay_s)
                if outer.down:
                    self.send_error(503)
                    return
                body = json.dumps(outer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/certs"

    @property
    def kid(self) -> str:
        """The current signing key's id (the newest)."""
        return list(self.keys)[-1]

    def jwks(self) -> dict:
        published = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        # Keycloak publishes an encryption key too: it must never verify a signature.
        enc = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._encryption_key.public_key()))
        published.append({**enc, "kid": "enc-key", "use": "enc", "alg": "RSA-OAEP"})
        return {"keys": published}

    def rotate(self) -> str:
        """A new signing key, published next to the old ones (as Keycloak rotates)."""
        kid = uuid.uuid4().hex
        self.keys[kid] = pooled_key()
        return kid

    def claims(
        self,
        role: str,
        province: str | None = None,
        *,
        username: str | None = None,
        ttl_s: float = 300,
        **overrides,
    ) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(uuid.uuid4()),
            "typ": "Bearer",
            "azp": "otop-web",
            "iat": now,
            "exp": now + int(ttl_s),
            "scope": "openid profile email",
            "realm_access": {"roles": ["default-roles-otop", "offline_access", role]},
            "preferred_username": username or f"{role}-{province}",
        }
        if province is not None:
            claims["province"] = province
        return {**claims, **overrides}

    def token(self, role: str, province: str | None = None, *, kid: str | None = None, **claims) -> str:
        kid = kid or self.kid
        return jwt.encode(
            self.claims(role, province, **claims), self.keys[kid], algorithm="RS256", headers={"kid": kid}
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
