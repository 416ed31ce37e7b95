"""The whole system on this machine: Kafka (jars), PostgreSQL (local binaries), every service, and
a demo province. `python -m deploy.local.stack` — Ctrl-C stops everything cleanly.

State lives in .local/ (databases, broker data, logs); delete it to start from nothing.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from deploy.kafka.kafka_runner import LocalKafka
from deploy.local.demo import DEMO_PROVINCE, load_demo
from deploy.local.demo_data import YEAR_BE
from deploy.local.processes import REPO, SERVICES, ServiceProcess, local_urls
from deploy.local.prometheus import LocalPrometheus
from shared.auth import Principal, Role, issue_token, new_secret

__all__ = ["SERVICES", "main"]
PG_SCRIPT = REPO / "deploy" / "postgres" / "pg.sh"


async def create_databases(server_url: str, names: list[str]) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        present = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in present:
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def kept_secret(path: Path) -> str:
    """A random key kept in the state directory, so tokens and integration keys survive a restart."""
    if not path.exists():
        path.write_text(new_secret() + new_secret())
        path.chmod(0o600)
    return path.read_text().strip()


def dashboard_link(monitoring_url: str, token: str) -> str:
    return f"{monitoring_url}/dashboard#province={DEMO_PROVINCE}&year={YEAR_BE}&month=6&token={token}"


def start_postgres(state: Path, port: int) -> str:
    """The stack's PostgreSQL cluster (state/pg), with a database per service; answers the server's URL."""
    subprocess.run([PG_SCRIPT, "start", "--data-dir", state / "pg", "--port", str(port)], check=True,
                   stdout=subprocess.DEVNULL)
    server = f"postgresql://postgres@127.0.0.1:{port}"
    asyncio.run(create_databases(f"{server}/postgres", [f"otop_{name}" for name in SERVICES]))
    return server


def stop_postgres(state: Path) -> None:
    subprocess.run([PG_SCRIPT, "stop", "--data-dir", state / "pg"], check=False)


def service_env(state: Path, bootstrap: str) -> dict[str, str]:
    """What every service process of the stack gets: Kafka, and the keys kept in the state directory."""
    return {"OTOP_KAFKA_BOOTSTRAP": bootstrap, "OTOP_JWT_SECRET": kept_secret(state / "jwt_secret"),
            "OTOP_SALES_SIGNING_MASTER_KEY": kept_secret(state / "sales_master_key")}


def service_processes(http_port: int, replicas: int, env: dict[str, str], server: str,
                      logs: Path) -> list[ServiceProcess]:
    """Every service's processes: replica 1 of each on `http_port` and the next ports (the URLs printed),
    replica r on the ports 4 (r - 1) further on, logging to <service>.log and <service>-<r>.log."""
    return [ServiceProcess(name, http_port + len(SERVICES) * r + i, {**env, "OTOP_DATABASE_URL": f"{server}/otop_{name}"},
                           logs / (f"{name}.log" if r == 0 else f"{name}-{r + 1}.log"))
            for r in range(replicas) for i, name in enumerate(SERVICES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local")
    parser.add_argument("--http-port", type=int, default=8001, help="registry's port; the others follow")
    parser.add_argument("--kafka-port", type=int, default=19092)
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo province")
    parser.add_argument("--replicas", type=int, default=1, choices=range(1, 10), metavar="N",
                        help="processes per service, in the same consumer groups (replica r of a service listens "
                             "on its port + 4 (r - 1))")
    parser.add_argument("--with-prometheus", action="store_true",
                        help="run Prometheus (Debian's package), scraping every service process")
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument("--exit-after-start", action="store_true", help="stop again once started (smoke test)")
    args = parser.parse_args()
    state = args.state_dir.resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    secret = kept_secret(state / "jwt_secret")

    print("[1/4] starting Kafka (KRaft, single node) ...", flush=True)
    kafka = LocalKafka(state / "kafka", args.kafka_port)
    bootstrap = kafka.start()
    print("[2/4] starting PostgreSQL ...", flush=True)
    server = start_postgres(state, args.pg_port)
    urls = local_urls(args.http_port)

    print(f"[3/4] starting services: {', '.join(SERVICES)} ...", flush=True)
    processes = service_processes(args.http_port, args.replicas, service_env(state, bootstrap), server, state / "logs")
    prometheus = LocalPrometheus(state / "prometheus", args.prometheus_port, {
        name: [f"127.0.0.1:{p.port}" for p in processes if p.name == name] for name in SERVICES})
    stopping = False

    def stop_all(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping ...", flush=True)
        prometheus.stop()
        for process in reversed(processes):
            process.stop()
        kafka.stop()
        stop_postgres(state)
        print("stopped.", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started in the background
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        if args.with_prometheus:
            prometheus.start()
        department = issue_token(secret, Principal(subject="demo-department", role=Role.DEPARTMENT))
        officer = issue_token(secret, Principal(subject="demo-officer", role=Role.PROVINCE_OFFICER,
                                                province_code=DEMO_PROVINCE))
        demo_summary = state / "demo.json"
        if args.no_demo:
            print("[4/4] no demo province (--no-demo)", flush=True)
        elif demo_summary.exists():
            print(f"[4/4] the demo province is loaded already (delete {state} to start over)", flush=True)
        else:
            print(f"[4/4] loading the demo province ({DEMO_PROVINCE} Suphanburi, June-September {YEAR_BE}) ...",
                  flush=True)
            try:
                demo_summary.write_text(json.dumps(load_demo(urls, officer), indent=2))
            except Exception:
                print(f"the demo load failed (logs: {state / 'logs'}); delete {state} to start over", flush=True)
                raise
        print(f"\nOTOP Mobile is running:\n  dashboard   {dashboard_link(urls['monitoring'], officer)}\n")
        print(f"  {'service':<11} {'API':<26} Swagger docs")
        for name, url in urls.items():
            print(f"  {name:<11} {url:<26} {url}/docs")
        if args.replicas > 1:
            print(f"  replicas    {args.replicas} of each service: "
                  + ", ".join(f"{p.name} {p.port}" for p in processes[len(SERVICES):]))
        if args.with_prometheus:
            print(f"  prometheus  {prometheus.url}  (targets: {prometheus.url}/targets)")
        print(f"  kafka       {bootstrap}\n  postgresql  {server}\n  logs        {state / 'logs'}")
        print(f"\nprovince officer token (province {DEMO_PROVINCE}, valid 12 h):\n  {officer}")
        print(f"department token (valid 12 h):\n  {department}")
        print(f"\ntry: curl -H 'Authorization: Bearer <officer token>' "
              f"'{urls['monitoring']}/provinces/{DEMO_PROVINCE}/reports/{YEAR_BE}/6?format=markdown'")
        print("     python -m deploy.local.cli --help   (demo load, registry import, report export)")
        if args.exit_after_start:
            return
        print("\nCtrl-C stops everything.", flush=True)
        while all(p.process.poll() is None for p in processes):
            time.sleep(1)
        print("a service exited; see its log", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
