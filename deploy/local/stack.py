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
from shared.auth import Principal, Role, issue_token, new_secret

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


def kept_secret(path: Path) -> str:
    """A random key kept in the state directory, so tokens and integration keys survive a restart."""
    if not path.exists():
        path.write_text(new_secret() + new_secret())
        path.chmod(0o600)
    return path.read_text().strip()


def dashboard_link(monitoring_url: str, token: str) -> str:
    return f"{monitoring_url}/dashboard#province={DEMO_PROVINCE}&year={YEAR_BE}&month=6&token={token}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local")
    parser.add_argument("--http-port", type=int, default=8001, help="registry's port; the others follow")
    parser.add_argument("--kafka-port", type=int, default=19092)
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo province")
    parser.add_argument("--exit-after-start", action="store_true", help="stop again once started (smoke test)")
    args = parser.parse_args()
    state = args.state_dir.resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    secret = kept_secret(state / "jwt_secret")

    kafka = LocalKafka(state / "kafka", args.kafka_port)
    pg_script = REPO / "deploy" / "postgres" / "pg.sh"
    server = f"postgresql://postgres@127.0.0.1:{args.pg_port}"
    urls = local_urls(args.http_port)
    common = {"OTOP_KAFKA_BOOTSTRAP": kafka.bootstrap, "OTOP_JWT_SECRET": secret,
              "OTOP_SALES_SIGNING_MASTER_KEY": kept_secret(state / "sales_master_key")}
    processes = [ServiceProcess(name, args.http_port + i, {**common, "OTOP_DATABASE_URL": f"{server}/otop_{name}"},
                                state / "logs" / f"{name}.log") for i, name in enumerate(SERVICES)]
    stopping = False

    def stop_all(*_):
        """Stops every part, whether it started or not (each stop is harmless for a part not running): also
        after a failed start, so that no part is left running alone."""
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping ...", flush=True)
        for process in reversed(processes):
            process.stop()
        kafka.stop()
        subprocess.run([pg_script, "stop", "--data-dir", state / "pg"], check=False)
        print("stopped.", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started in the background
    try:
        print("[1/4] starting Kafka (KRaft, single node) ...", flush=True)
        bootstrap = kafka.start()
        print("[2/4] starting PostgreSQL ...", flush=True)
        # Durable: pg.sh keeps PostgreSQL's fsync and full-page writes (only the test harness relaxes them).
        subprocess.run([pg_script, "start", "--data-dir", state / "pg", "--port", str(args.pg_port)], check=True,
                       stdout=subprocess.DEVNULL)
        asyncio.run(create_databases(f"{server}/postgres", [f"otop_{name}" for name in SERVICES]))

        print(f"[3/4] starting services: {', '.join(SERVICES)} ...", flush=True)
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
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
