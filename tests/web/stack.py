"""The whole system for the browser tests, as people reach it: its own Kafka broker (the services' consumer
groups must not meet other tests' in-process services), PostgreSQL databases on the tests' server, Keycloak
(realm otop), the four services as processes, and the nginx gateway in front of them all, with test users
made through Keycloak's admin API. Tokens are Keycloak's (the otop-cli client's password grant) and
everything goes through the gateway, as the browser's calls do."""

import os
import secrets
import shutil
from dataclasses import dataclass, field

import asyncpg
import httpx

from deploy.kafka.kafka_runner import LocalKafka
from deploy.kafka.provision import ProvisionSettings, provision
from deploy.keycloak.admin import OneTimeCodes, totp_credential
from deploy.keycloak.keycloak_runner import LocalKeycloak
from deploy.local.gateway import LocalGateway
from deploy.local.processes import ServiceProcess
from shared.kafka_client import kafka_env
from shared.service_names import SERVICES
from tests import harness


@dataclass(frozen=True)
class User:
    username: str
    password: str
    role: str
    province: str | None
    name: str
    # Department accounts must use one-time passwords: the tests enrol a TOTP secret and compute its codes.
    one_time_secret: str | None = None
    groups: tuple[str, ...] = ()


USERS = {
    "officer": User("officer72", "Officer-72-pass", "province_officer", "72", "สมศรี ใจดี"),
    "officer10": User("officer10", "Officer-10-pass", "province_officer", "10", "วิชัย กรุงเทพ"),
    "committee": User("committee72", "Committee-72-pass", "committee_member", "72", "วิไล แสงทอง"),
    "department": User(
        "department", "Department-pass", "department", None, "กัลยา บุญประเสริฐ", secrets.token_hex(10)
    ),
    "accounts": User(  # a department user who also manages accounts (in Keycloak's admin console)
        "accounts-admin",
        "Accounts-admin-pass",
        "department",
        None,
        "ประเสริฐ ดูแลบัญชี",
        secrets.token_hex(10),
        ("account-administrators",),
    ),
}


@dataclass
class WebStack:
    url: str
    keycloak: LocalKeycloak
    admin_password: str
    subjects: dict[str, str] = field(default_factory=dict)  # username -> Keycloak user id (the token's sub)
    _tokens: dict[str, str] = field(default_factory=dict)
    _codes: dict[str, OneTimeCodes] = field(default_factory=dict)

    def one_time_code(self, user: User) -> str:
        """The user's next TOTP code (each is used once, as Keycloak wants)."""
        assert user.one_time_secret, f"{user.username} has no one-time password"
        return self._codes.setdefault(user.username, OneTimeCodes(user.one_time_secret))()

    def token(self, user: User) -> str:
        """An access token of the user, from Keycloak through the gateway (the CLI's password grant)."""
        answer = httpx.post(
            f"{self.url}/auth/realms/otop/protocol/openid-connect/token",
            timeout=30,
            data={
                "grant_type": "password",
                "client_id": "otop-cli",
                "username": user.username,
                "password": user.password,
                "scope": "openid",
                **({"totp": self.one_time_code(user)} if user.one_time_secret else {}),
            },
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def client(self, user: User) -> httpx.Client:
        """An HTTP client on the gateway's /api/ with the user's token (valid minutes: for seeding)."""
        return httpx.Client(
            base_url=f"{self.url}/api", timeout=60, headers={"Authorization": f"Bearer {self.token(user)}"}
        )

    def create_users(self) -> None:
        admin = httpx.post(
            f"{self.keycloak.url}/realms/master/protocol/openid-connect/token",
            timeout=30,
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.keycloak.admin_username,
                "password": self.admin_password,
            },
        ).json()["access_token"]
        api = httpx.Client(
            base_url=f"{self.keycloak.url}/admin/realms/otop",
            timeout=30,
            headers={"Authorization": f"Bearer {admin}"},
        )
        with api:
            for user in USERS.values():
                first, last = user.name.split(" ", 1)
                created = api.post(
                    "/users",
                    json={
                        "username": user.username,
                        "enabled": True,
                        "emailVerified": True,
                        "firstName": first,
                        "lastName": last,
                        "email": f"{user.username}@otop.example",
                        "attributes": {"province": [user.province]} if user.province else {},
                        "credentials": [
                            {"type": "password", "value": user.password, "temporary": False},
                            *([totp_credential(user.one_time_secret)] if user.one_time_secret else []),
                        ],
                        "groups": [f"/{group}" for group in user.groups],
                    },
                )
                assert created.status_code == 201, created.text
                user_id = created.headers["Location"].rsplit("/", 1)[1]
                role = api.get(f"/roles/{user.role}").json()
                assert api.post(f"/users/{user_id}/role-mappings/realm", json=[role]).status_code == 204
                self.subjects[user.username] = user_id


async def _create_databases(server: str, names: list[str]) -> None:
    admin = await asyncpg.connect(server)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def start(pg_server: str, run_async) -> tuple[WebStack, callable]:
    """Starts everything; returns the stack and the function that stops it all."""
    # Keycloak's first start on an empty database (schema, realm import) takes minutes on a busy 2-core
    # machine.
    os.environ.setdefault("KEYCLOAK_START_TIMEOUT", "600")
    root = harness.scratch_dir("otop-web-")
    stoppers = []

    def stop() -> None:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:  # stop the rest whatever one of them does
                pass
        shutil.rmtree(root, ignore_errors=True)

    try:
        kafka = LocalKafka(root / "kafka", harness.free_port())
        bootstrap = kafka.start()
        stoppers.append(kafka.stop)
        # Topics, and each service's own principal with its ACLs, as the local stack provisions them.
        principals = run_async(
            provision(
                ProvisionSettings(
                    kafka_bootstrap=bootstrap,
                    kafka_username=kafka.admin_username,
                    kafka_password=kafka.admin_password,
                    topic_partitions=2,
                ),
                {name: secrets.token_urlsafe(24) for name in SERVICES},
            )
        )
        tag = secrets.token_hex(4)
        databases = {name: f"web_{tag}_{name}" for name in [*SERVICES, "keycloak"]}
        run_async(_create_databases(pg_server, list(databases.values())))
        server = pg_server.rsplit("/", 1)[0]
        gateway_port = harness.free_port()
        app = f"http://127.0.0.1:{gateway_port}"
        admin_password = secrets.token_urlsafe(16)
        keycloak = LocalKeycloak(
            root / "keycloak",
            harness.free_port(),
            f"{server}/{databases['keycloak']}",
            admin_username="web-test-administrator",
            admin_password=admin_password,
            sales_client_secret=secrets.token_urlsafe(24),
            public_url=f"{app}/auth",
            web_origin=app,
        )
        keycloak.start()
        stoppers.append(keycloak.stop)
        common = {
            "OTOP_KAFKA_BOOTSTRAP": bootstrap,
            **keycloak.service_env(),
            "OTOP_SALES_SIGNING_MASTER_KEY": secrets.token_urlsafe(32),
            "OTOP_INVITATION_LINK_KEY": secrets.token_urlsafe(32),
            "OTOP_OUTBOX_IDLE_POLL_S": "0.05",
            "OTOP_LOG_LEVEL": "WARNING",
        }
        first = harness.free_port_run(len(SERVICES))
        processes = [
            ServiceProcess(
                name,
                first + i,
                {
                    **common,
                    **(keycloak.sales_env() if name == "sales" else {}),
                    **(harness.KafkaFixture.of(kafka).provisioner_env() if name == "sales" else {}),
                    "OTOP_DATABASE_URL": f"{server}/{databases[name]}",
                    **kafka_env(principals[name]),
                },
                root / f"{name}.log",
            )
            for i, name in enumerate(SERVICES)
        ]
        for process in processes:
            process.start()
            stoppers.append(process.stop)
        for process in processes:
            process.wait_ready()
        gateway = LocalGateway(
            root / "gateway",
            gateway_port,
            {**{p.name: p.url for p in processes}, "keycloak": f"http://127.0.0.1:{keycloak.port}"},
            root / "gateway.log",
        )
        gateway.start()
        stoppers.append(gateway.stop)
        gateway.wait_ready()
        stack = WebStack(app, keycloak, admin_password)
        stack.create_users()
        return stack, stop
    except BaseException:
        for log in sorted(root.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")
        stop()
        raise
