"""Python handle on deploy/keycloak/keycloak.sh (Keycloak in production mode from its Maven Central
distribution, on a PostgreSQL database of its own), for the test harness and the local stack.

    from deploy.keycloak.keycloak_runner import LocalKeycloak

    keycloak = LocalKeycloak(Path("/tmp/otop-keycloak"), port, "postgresql://postgres@127.0.0.1:5432/keycloak",
                             admin_username="somchai.admin", admin_password=..., sales_client_secret=...)
    keycloak.start()          # fetches and builds the distribution on first use; imports the otop realm;
                              # the named administrator replaces the temporary one (admin.take_over)
    keycloak.issuer()         # http://127.0.0.1:<port>/auth/realms/otop (or the public URL's)
    keycloak.stop()
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from deploy.keycloak.admin import take_over
from deploy.keycloak.realm import INTEGRATION_REALM, REALM
from deploy.runners import free_port, pid_in, run_script, script_succeeds, wait_ready

SCRIPT = Path(__file__).resolve().with_name("keycloak.sh")
BOOTSTRAP_ADMIN = "temporary-admin"  # Keycloak's first administrator, deleted once the named one is made


class Keycloak:
    """A running Keycloak with the otop realms: its addresses, and the credentials this project holds for
    it."""

    def __init__(
        self,
        url: str,
        *,
        admin_username: str,
        admin_password: str,
        sales_client_secret: str,
        public_url: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")  # where this machine's services reach /auth (the back channel)
        self.public_url = (public_url or self.url).rstrip("/")  # where browsers do: the issuer's base
        self.admin_username, self.admin_password = admin_username, admin_password
        self.sales_client_secret = sales_client_secret

    def issuer(self, realm: str = REALM) -> str:
        """The `iss` of the realm's tokens (the public address)."""
        return f"{self.public_url}/realms/{realm}"

    def realm_url(self, realm: str = REALM) -> str:
        """The realm's back-channel base (token endpoint, JWKS) for this machine's services."""
        return f"{self.url}/realms/{realm}"

    def jwks_url(self, realm: str = REALM) -> str:
        return f"{self.realm_url(realm)}/protocol/openid-connect/certs"

    def token_url(self, realm: str = REALM) -> str:
        return f"{self.realm_url(realm)}/protocol/openid-connect/token"

    def service_env(self) -> dict[str, str]:
        """The environment every service needs to verify this Keycloak's tokens."""
        return {
            "OTOP_OIDC_ISSUER": self.issuer(),
            "OTOP_OIDC_JWKS_URL": self.jwks_url(),
            "OTOP_OIDC_INTEGRATION_ISSUER": self.issuer(INTEGRATION_REALM),
            "OTOP_OIDC_INTEGRATION_JWKS_URL": self.jwks_url(INTEGRATION_REALM),
        }

    def sales_env(self) -> dict[str, str]:
        """What the sales service needs, besides, to make integrations' clients."""
        return {
            "OTOP_SALES_KEYCLOAK_REALM_URL": self.realm_url(INTEGRATION_REALM),
            "OTOP_SALES_KEYCLOAK_CLIENT_SECRET": self.sales_client_secret,
        }


class LocalKeycloak(Keycloak):
    """One Keycloak with its home and logs in `data_dir` and its state in the database `database_url`
    (postgresql://user[:password]@host:port/name; the database must exist). `public_url` is the address of
    /auth that browsers use, the token issuer's base (default: Keycloak's own loopback address); the admin
    console stays on Keycloak's own address. `admin_username` is the master realm's named administrator."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        database_url: str,
        *,
        admin_username: str,
        admin_password: str,
        sales_client_secret: str,
        public_url: str | None = None,
        web_origin: str | None = None,
        management_port: int | None = None,
    ) -> None:
        super().__init__(
            f"http://127.0.0.1:{port}/auth",
            admin_password=admin_password,
            public_url=public_url,
            sales_client_secret=sales_client_secret,
            admin_username=admin_username,
        )
        self.data_dir = Path(data_dir)
        self.port = port
        self.management_port = management_port or free_port()
        self.database_url = database_url
        self.web_origin = web_origin

    @property
    def pid(self) -> int | None:
        return pid_in(self.data_dir / "keycloak.pid")

    def _run(self, command: str, *args: str, timeout: float, env: dict[str, str] | None = None) -> str:
        return run_script(SCRIPT, command, "--data-dir", str(self.data_dir), *args, timeout=timeout, env=env)

    def start(self) -> str:
        """Starts Keycloak, or finds it running, and returns its back-channel URL once the realm answers.
        The first call on a machine also downloads (Maven) and builds the distribution."""
        database = urlsplit(self.database_url)
        env = {
            "KC_BOOTSTRAP_ADMIN_USERNAME": BOOTSTRAP_ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            "OTOP_SALES_KEYCLOAK_SECRET": self.sales_client_secret,
            "KC_DB_USERNAME": database.username or "postgres",
        }
        if database.password:
            env["KC_DB_PASSWORD"] = database.password
        if self.web_origin:
            env["OTOP_WEB_ORIGIN"] = self.web_origin
        jdbc = f"jdbc:postgresql://{database.hostname}:{database.port or 5432}{database.path}"
        self._run(
            "start",
            "--port",
            str(self.port),
            "--management-port",
            str(self.management_port),
            "--db-url",
            jdbc,
            "--public-url",
            self.public_url,
            timeout=900,
            env=env,
        )
        # The realm is imported during start-up; this only guards against a slow first answer.
        wait_ready(f"{self.realm_url()}/.well-known/openid-configuration", name="keycloak", timeout=60)
        take_over(
            self.url, self.admin_username, self.admin_password, BOOTSTRAP_ADMIN, self.admin_password
        ).close()
        return self.url

    def stop(self) -> None:
        """Graceful stop (SIGTERM; SIGKILL after 30 s). No error if it is not running."""
        self._run("stop", timeout=60)

    def running(self) -> bool:
        return script_succeeds(SCRIPT, "status", "--data-dir", str(self.data_dir))

    def rss_bytes(self) -> int:
        """Resident memory of the Keycloak JVM (the java child of kc.sh), 0 when not running."""
        pid = self.pid
        if pid is None:
            return 0
        children = Path(f"/proc/{pid}/task/{pid}/children")
        pids = [pid] + [int(c) for c in children.read_text().split()] if children.exists() else [pid]
        total = 0
        for each in pids:
            try:
                for line in Path(f"/proc/{each}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def __enter__(self) -> LocalKeycloak:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
