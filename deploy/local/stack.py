"""The whole system on this machine: Kafka (jars), PostgreSQL (local binaries), Keycloak (the identity
provider, production mode), every service, demo accounts and a demo province.
`python -m deploy.local.stack` — Ctrl-C stops everything cleanly.

State lives in .local/ (databases, broker data, Keycloak's home, logs, generated secrets and the demo
users' passwords); delete it to start from nothing.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

from deploy.kafka import provisioner
from deploy.kafka.kafka_runner import LocalKafka, LocalKafkaCluster
from deploy.kafka.provision import PROVISIONER, ProvisionSettings, provision
from deploy.keycloak.admin import AccessToken, otpauth_uri, password_grant
from deploy.keycloak.keycloak_runner import LocalKeycloak
from deploy.keycloak.realm import CLI_CLIENT, REALM
from deploy.local.accounts import DEMO_USERS, demo_users, one_time_codes, one_time_secrets
from deploy.local.demo import DEMO_PROVINCE, load_demo
from deploy.local.demo_data import YEAR_BE
from deploy.local.gateway import LocalGateway
from deploy.local.processes import REPO, ServiceProcess, local_urls
from deploy.local.prometheus import LocalPrometheus
from deploy.postgres.provision import provision as provision_databases
from deploy.runners import free_port
from shared.kafka_client import kafka_env
from shared.secrets import new_secret
from shared.service_names import SERVICES

__all__ = ["SERVICES", "main"]


async def create_databases(server_url: str, names: list[str]) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        present = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in present:
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def kept_secret(path: Path, make: Callable[[], str] = lambda: new_secret() + new_secret()) -> str:
    """A random key (or what `make` makes) kept in the state directory, so integration keys and logins
    survive a restart."""
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def keycloak_administrator(state: Path) -> str:
    """The name of the master realm's administrator of this stack (made at Keycloak's first start)."""
    return kept_secret(state / "keycloak_admin", lambda: f"operator-{secrets.token_hex(3)}")


def service_databases(state: Path, server: str, services: Sequence[str] = SERVICES) -> dict[str, str]:
    """Each service's database, owned by its own role (deploy/postgres/provision.py; passwords kept in the
    state directory): the URLs the services connect with."""
    passwords = {name: kept_secret(state / f"pg_{name}.password") for name in services}
    return asyncio.run(provision_databases(f"{server}/postgres", passwords))


def kafka_passwords(state: Path) -> dict[str, str]:
    """The services' and the Kafka provisioner's Kafka passwords, kept in the state directory."""
    return {name: kept_secret(state / f"kafka_{name}.password") for name in (*SERVICES, PROVISIONER)}


def kafka_provisioner(state: Path, principals: dict) -> ServiceProcess:
    """The Kafka provisioner (deploy/kafka/provisioner.py: integrations' principals, for the sales service)
    on a free loopback port, with its principal from `principals`."""
    return provisioner.local_process(
        principals[PROVISIONER],
        kept_secret(state / "kafka_provisioner_token"),
        free_port(),
        state / "logs" / "kafka-provisioner.log",
    )


def service_envs(
    state: Path,
    keycloak,
    principals: dict,
    kafka_provisioner: ServiceProcess,
    registry_url: str | None = None,
) -> dict[str, dict[str, str]]:
    """Each service's environment but its database: Keycloak, its own Kafka principal (`principals`, from
    deploy.kafka.provision), the keys kept in the state directory, for sales the Kafka provisioner, and for
    publicity the registry's address (`registry_url`: the lineup's photos on share images and posters)."""
    common = {
        **keycloak.service_env(),
        "OTOP_SALES_SIGNING_MASTER_KEY": kept_secret(state / "sales_master_key"),
        "OTOP_INVITATION_LINK_KEY": kept_secret(state / "invitation_link_key"),
    }
    sales = {
        **keycloak.sales_env(),
        **provisioner.sales_env(kafka_provisioner, kept_secret(state / "kafka_provisioner_token")),
    }
    publicity = {"OTOP_PUBLICITY_PHOTOS_URL": registry_url} if registry_url else {}
    own = {"sales": sales, "publicity": publicity}
    return {name: {**common, **own.get(name, {}), **kafka_env(principals[name])} for name in SERVICES}


def service_processes(
    http_port: int, replicas: int, envs: dict[str, dict[str, str]], databases: dict[str, str], logs: Path
) -> list[ServiceProcess]:
    """Every service's processes: replica 1 of each on `http_port` and the next ports (the URLs printed),
    replica r on the ports len(SERVICES) (r - 1) further on, logging to <service>.log and
    <service>-<r>.log."""
    return [
        ServiceProcess(
            name,
            http_port + len(SERVICES) * r + i,
            {**envs[name], "OTOP_DATABASE_URL": databases[name]},
            logs / (f"{name}.log" if r == 0 else f"{name}-{r + 1}.log"),
        )
        for r in range(replicas)
        for i, name in enumerate(SERVICES)
    ]


def local_kafka(state: Path, brokers: int, port: int) -> LocalKafka | LocalKafkaCluster:
    """One broker (ports P, P+1 its controller, P+2 TLS), or a cluster of three (ports P to P+8: each node's
    three, in that order), its data in state/kafka. A state directory keeps the broker count it began with."""
    data = state / "kafka"
    other = data / ("logs" if brokers == 3 else "node-1")
    if other.exists():
        raise SystemExit(
            f"{state} holds a Kafka of {1 if brokers == 3 else 3} broker(s) ({other}): "
            "start with that --brokers, or use another --state-dir"
        )
    if brokers == 3:
        return LocalKafkaCluster(data, port)
    return LocalKafka(data, port, controller_port=port + 1, ssl_port=port + 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local")
    parser.add_argument("--http-port", type=int, default=8001, help="registry's port; the others follow")
    parser.add_argument(
        "--kafka-port",
        type=int,
        default=19092,
        help="SASL_PLAINTEXT listener (services); +1 the controller (loopback), +2 SASL_SSL (integrations); "
        "with --brokers 3, node i's three ports from P + 3 (i - 1) on",
    )
    parser.add_argument(
        "--brokers",
        type=int,
        default=1,
        choices=(1, 3),
        help="Kafka brokers: 1, or a KRaft cluster of 3 (each broker and controller; topics with replication "
        "factor 3 and min.insync.replicas 2, the services' bootstrap naming all three)",
    )
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument(
        "--gateway-port",
        type=int,
        default=8000,
        help="the web application, the APIs (/api/<service>/) and the login (/auth/) on one origin",
    )
    parser.add_argument(
        "--keycloak-port", type=int, default=8180, help="Keycloak's own port (the gateway's /auth/)"
    )
    parser.add_argument(
        "--keycloak-public-url",
        help="the address of /auth that browsers use, the tokens' issuer "
        "(default the gateway's: http://127.0.0.1:<gateway port>/auth)",
    )
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo province")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        choices=range(1, 10),
        metavar="N",
        help="processes per service, in the same consumer groups (replica r of a service listens "
        "on its port + (number of services) (r - 1))",
    )
    parser.add_argument(
        "--with-prometheus",
        action="store_true",
        help="run Prometheus (Debian's package), scraping every service process",
    )
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument(
        "--exit-after-start", action="store_true", help="stop again once started (smoke test)"
    )
    args = parser.parse_args()
    state = args.state_dir.resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)

    kafka = local_kafka(state, args.brokers, args.kafka_port)
    pg_script = REPO / "deploy" / "postgres" / "pg.sh"
    server = f"postgresql://postgres@127.0.0.1:{args.pg_port}"
    urls = local_urls(args.http_port)
    keycloak = LocalKeycloak(
        state / "keycloak",
        args.keycloak_port,
        f"{server}/keycloak",
        admin_username=keycloak_administrator(state),
        admin_password=kept_secret(state / "keycloak_admin_password"),
        sales_client_secret=kept_secret(state / "keycloak_sales_secret"),
        public_url=args.keycloak_public_url or f"http://127.0.0.1:{args.gateway_port}/auth",
    )
    gateway = LocalGateway(
        state / "gateway",
        args.gateway_port,
        {**urls, "keycloak": f"http://127.0.0.1:{args.keycloak_port}"},
        state / "logs" / "gateway.log",
    )
    processes: list[ServiceProcess] = []  # made once Kafka has their principals
    prometheus = LocalPrometheus(state / "prometheus", args.prometheus_port, {})
    stopping = False

    def stop_all(*_):
        """Stops every part, whether it started or not (each stop is harmless for a part not running): also
        after a failed start, so that no part is left running alone."""
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping ...", flush=True)
        prometheus.stop()
        for process in reversed(processes):
            process.stop()
        gateway.stop()
        keycloak.stop()
        kafka.stop()
        subprocess.run([pg_script, "stop", "--data-dir", state / "pg"], check=False)
        print("stopped.", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started in the background
    try:
        print(
            "[1/5] starting Kafka (KRaft, "
            + ("single node" if args.brokers == 1 else "3 nodes, each broker and controller")
            + ") ...",
            flush=True,
        )
        bootstrap = kafka.start()
        # Topics, and each service's own principal and ACLs (passwords kept in the state directory).
        principals = asyncio.run(
            provision(
                ProvisionSettings(
                    kafka_bootstrap=bootstrap,
                    kafka_username=kafka.admin_username,
                    kafka_password=kafka.admin_password,
                    topic_replication_factor=kafka.replication_factor,
                ),
                kafka_passwords(state),
            )
        )
        processes.append(kafka_provisioner(state, principals))
        processes[0].start()
        print("[2/5] starting PostgreSQL ...", flush=True)
        # Durable: pg.sh keeps PostgreSQL's fsync and full-page writes (only the test harness relaxes them).
        subprocess.run(
            [pg_script, "start", "--data-dir", state / "pg", "--port", str(args.pg_port)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        asyncio.run(create_databases(f"{server}/postgres", ["keycloak"]))
        databases = service_databases(state, server)
        (state / "keycloak.json").write_text(json.dumps({"url": keycloak.url, "issuer": keycloak.issuer()}))

        print(
            f"[3/5] starting Keycloak, the services ({', '.join(SERVICES)}) and the gateway ...", flush=True
        )
        processes.extend(
            service_processes(
                args.http_port,
                args.replicas,
                service_envs(
                    state,
                    keycloak,
                    principals,
                    processes[0],
                    registry_url=f"http://127.0.0.1:{args.http_port}",
                ),
                databases,
                state / "logs",
            )
        )
        with ThreadPoolExecutor(1) as background:  # Keycloak starts while the services do
            keycloak_started = background.submit(keycloak.start)
            for process in processes[1:]:
                process.start()
            for process in processes:
                process.wait_ready()
            gateway.start()
            gateway.wait_ready()
            keycloak_started.result()
        if args.with_prometheus:
            prometheus.targets = {
                name: [f"127.0.0.1:{p.port}" for p in processes if p.name == name] for name in SERVICES
            }
            prometheus.start()
        print("[4/5] demo accounts in Keycloak ...", flush=True)
        passwords = demo_users(keycloak, state)
        officer = AccessToken(
            lambda: password_grant(
                keycloak.token_url(), CLI_CLIENT, "demo-officer-72", passwords["demo-officer-72"]
            )
        )
        department_codes = one_time_codes(state, "demo-department")  # department accounts must use TOTP
        department = AccessToken(  # approves the demo province's budget
            lambda: password_grant(
                keycloak.token_url(),
                CLI_CLIENT,
                "demo-department",
                passwords["demo-department"],
                department_codes() if department_codes else None,
            )
        )
        demo_summary = state / "demo.json"
        if args.no_demo:
            print("[5/5] no demo province (--no-demo)", flush=True)
        elif demo_summary.exists():
            print(f"[5/5] the demo province is loaded already (delete {state} to start over)", flush=True)
        else:
            print(
                f"[5/5] loading the demo province ({DEMO_PROVINCE} Suphanburi, June-September {YEAR_BE}) ...",
                flush=True,
            )
            try:
                demo_summary.write_text(json.dumps(load_demo(urls, officer, approver=department), indent=2))
            except Exception:
                print(
                    f"the demo load failed (logs: {state / 'logs'}); delete {state} to start over", flush=True
                )
                raise
        print(
            f"\nOTOP Mobile is running:\n  app         {gateway.url}/\n"
            f"  public      {gateway.url}/p/{DEMO_PROVINCE}  (the public pages: no login)\n\n"
            "Log in there as (the department "
            f"manages users in Keycloak's admin console on Keycloak's own address, {keycloak.url}/admin/"
            f"{REALM}/console/, not through the app's; docs/identity.md):\n"
        )
        for username, *_, what in DEMO_USERS:
            print(f"  {username:<18} password {passwords[username]:<22} {what}")
        for username, secret in one_time_secrets(state).items():
            print(
                f"  {username} must also give a one-time code: add {otpauth_uri(secret, username)} to an "
                f"authenticator app\n  (or: python -m deploy.local.cli --state-dir {state} code --user "
                f"{username})"
            )
        print(f"  (passwords kept in {state / 'demo-users.json'})")
        print(
            f"  Keycloak's administrator (master realm, {keycloak.url}/admin/): "
            f"{keycloak.admin_username}, password in {state / 'keycloak_admin_password'}\n"
        )
        print(f"  {'service':<11} {'API':<26} Swagger docs")
        for name, url in urls.items():
            print(f"  {name:<11} {url:<26} {url}/internal/docs")
        if args.replicas > 1:
            print(
                f"  replicas    {args.replicas} of each service: "
                + ", ".join(f"{p.name} {p.port}" for p in processes[1 + len(SERVICES) :])
            )
        if args.with_prometheus:
            print(f"  prometheus  {prometheus.url}  (targets: {prometheus.url}/targets)")
        print(f"  keycloak    {keycloak.url} (issuer {keycloak.issuer()})")
        print(
            f"  kafka       {bootstrap} (SASL_PLAINTEXT, the services)\n"
            f"              {kafka.ssl_bootstrap} (SASL_SSL, POS integrations; CA file {kafka.ca_file})\n"
            f"  postgresql  {server}\n  logs        {state / 'logs'}"
        )
        cli = f"python -m deploy.local.cli --state-dir {state} --http-port {args.http_port}"
        print(f"\ntry: TOKEN=$({cli} token --user demo-officer-72)   # from Keycloak, valid 5 minutes")
        print(
            f'     curl -H "Authorization: Bearer $TOKEN" '
            f"'{urls['monitoring']}/provinces/{DEMO_PROVINCE}/reports/{YEAR_BE}/6?format=markdown'"
        )
        print(f"     {cli} --help   (demo load, registry import, report export, tokens)")
        if args.exit_after_start:
            return
        print("\nCtrl-C stops everything.", flush=True)
        while all(p.started.poll() is None for p in processes):
            time.sleep(1)
        print("a service exited; see its log", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
