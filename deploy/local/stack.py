"""The whole system on this machine: Kafka (jars), PostgreSQL (local binaries), every service, and
a demo province. `python -m deploy.local.stack` — Ctrl-C stops everything cleanly.

State lives in .local/ (databases, broker data, logs); delete it to start from nothing.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from deploy.kafka.kafka_runner import LocalKafka
from deploy.local.demo import DEMO_PROVINCE, load_demo
from deploy.local.processes import REPO, ServiceProcess
from shared.auth import Principal, Role, issue_token

SERVICES = ["registry", "scheduling", "sales", "monitoring"]  # HTTP ports: --http-port, +1, +2, +3


async def create_databases(server_url: str, names: list[str]) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        present = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in present:
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
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
    secret_file = state / "jwt_secret"
    if not secret_file.exists():
        from shared.auth import new_secret

        secret_file.write_text(new_secret() + new_secret())
    secret = secret_file.read_text().strip()

    print("[1/4] starting Kafka (KRaft, single node) ...", flush=True)
    kafka = LocalKafka(state / "kafka", args.kafka_port)
    bootstrap = kafka.start()
    pg_script = REPO / "deploy" / "postgres" / "pg.sh"
    print("[2/4] starting PostgreSQL ...", flush=True)
    subprocess.run([pg_script, "start", "--data-dir", state / "pg", "--port", str(args.pg_port)], check=True,
                   stdout=subprocess.DEVNULL)
    server = f"postgresql://postgres@127.0.0.1:{args.pg_port}"
    services = {name: args.http_port + i for i, name in enumerate(SERVICES)}
    asyncio.run(create_databases(f"{server}/postgres", [f"otop_{name}" for name in services]))

    print(f"[3/4] starting services: {', '.join(services)} ...", flush=True)
    processes = [
        ServiceProcess(name, port, {"OTOP_DATABASE_URL": f"{server}/otop_{name}", "OTOP_KAFKA_BOOTSTRAP": bootstrap,
                                    "OTOP_JWT_SECRET": secret}, state / "logs" / f"{name}.log")
        for name, port in services.items()
    ]
    stopping = False

    def stop_all(*_):
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
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        department = issue_token(secret, Principal(subject="demo-department", role=Role.DEPARTMENT))
        officer = issue_token(secret, Principal(subject="demo-officer", role=Role.PROVINCE_OFFICER,
                                                province_code=DEMO_PROVINCE))
        demo_marker = state / "demo-loaded"
        if not args.no_demo and not demo_marker.exists():
            print(f"[4/4] loading the demo province ({DEMO_PROVINCE} Suphanburi) ...", flush=True)
            load_demo(f"http://127.0.0.1:{services['registry']}", officer)
            demo_marker.touch()
        print("\nOTOP Mobile is running:")
        for process in processes:
            print(f"  {process.name:<11} {process.url}/docs")
        print(f"  kafka       {bootstrap}\n  postgresql  {server}\n  logs        {state / 'logs'}")
        print(f"\nprovince officer token (province {DEMO_PROVINCE}):\n  {officer}")
        print(f"department token:\n  {department}")
        print(f"\ntry: curl -H 'Authorization: Bearer <officer token>' "
              f"http://127.0.0.1:{services['monitoring']}/provinces/{DEMO_PROVINCE}/products")
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
