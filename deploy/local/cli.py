"""Command line for long work against running services, with progress output:

    python -m deploy.local.cli demo                                 # load the demo province
    python -m deploy.local.cli import products.xlsx [--dry-run]     # the registry's product import
    python -m deploy.local.cli report --year 2562 --month 6 7 8 9 --format markdown --out reports/
    python -m deploy.local.cli token --role province_officer --province 72
    python -m deploy.local.cli national-demo [--scale 0.1] [--provinces 72 10] [--months 6 7]   # all 77 provinces

Services are found at --url-registry/-scheduling/-sales/-monitoring (or OTOP_<SERVICE>_URL), by default
the local stack's ports (--http-port, 8001 onwards). The bearer token is --token (or OTOP_TOKEN), else one
is signed with the JWT key: OTOP_JWT_SECRET, or the local stack's (.local/jwt_secret).
See docs/local-stack.md.
"""

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from deploy.local.demo import load_demo
from deploy.local.demo_data import MONTHS, PROVINCE
from deploy.local.national import LoadFailed, load_national
from deploy.local.processes import REPO, SERVICES, local_urls
from shared.auth import Principal, Role, issue_token

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {"json": "json", "text": "md", "markdown": "md"}  # any other format: the format's name
UPLOAD_CHUNK = 256 * 1024


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def working(what: str, every_s: float = 2.0) -> Iterator[None]:
    """Says `what` now, then every few seconds how long it has taken, and at the end the time it took."""
    started, done = time.monotonic(), threading.Event()

    def tick() -> None:
        while not done.wait(every_s):
            say(f"  ... {what}: {time.monotonic() - started:.0f} s")

    say(f"{what} ...")
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
    say(f"{what}: done in {time.monotonic() - started:.1f} s")


def token_from(args: argparse.Namespace, role: Role = Role.PROVINCE_OFFICER) -> str:
    if args.token or os.environ.get("OTOP_TOKEN"):
        return args.token or os.environ["OTOP_TOKEN"]
    secret = os.environ.get("OTOP_JWT_SECRET")
    if not secret:
        stack_secret = args.state_dir / "jwt_secret"
        if not stack_secret.exists():
            raise SystemExit(f"no token: give --token (or OTOP_TOKEN), OTOP_JWT_SECRET, or run the local stack "
                             f"({stack_secret} is missing)")
        secret = stack_secret.read_text().strip()
    province = None if role is Role.DEPARTMENT else args.province
    return issue_token(secret, Principal(subject=f"cli-{role.value}", role=role, province_code=province))


def urls_from(args: argparse.Namespace) -> dict[str, str]:
    defaults = local_urls(args.http_port)
    return {name: (getattr(args, f"url_{name}") or os.environ.get(f"OTOP_{name.upper()}_URL") or defaults[name])
            .rstrip("/") for name in SERVICES}


def client(args: argparse.Namespace, service: str, timeout: float = 300) -> httpx.Client:
    return httpx.Client(base_url=f"{urls_from(args)[service]}/provinces/{args.province}", timeout=timeout,
                        headers={"Authorization": f"Bearer {token_from(args)}"})


def fail(response: httpx.Response) -> None:
    if response.is_error:
        say(f"{response.request.method} {response.request.url} answered {response.status_code}:")
        try:
            say(json.dumps(response.json(), ensure_ascii=False, indent=2)[:20_000])
        except ValueError:
            say(response.text[:20_000])
        raise SystemExit(1)


# --- commands


def demo(args: argparse.Namespace) -> None:
    if args.province != PROVINCE:
        raise SystemExit(f"the demo is of province {PROVINCE}")
    say(f"loading the demo province {PROVINCE} into {', '.join(urls_from(args).values())}")
    summary = load_demo(urls_from(args), token_from(args), progress=say)
    print(json.dumps(summary, indent=2, ensure_ascii=False))


def upload(data: bytes, progress_every: int) -> Iterator[bytes]:
    """The file in chunks, saying how much of it is sent."""
    sent = 0
    for start in range(0, len(data), UPLOAD_CHUNK):
        chunk = data[start:start + UPLOAD_CHUNK]
        yield chunk
        sent += len(chunk)
        if sent == len(data) or (start // UPLOAD_CHUNK) % progress_every == 0:
            say(f"  uploaded {sent:,} of {len(data):,} bytes ({100 * sent // len(data)}%)")


def import_products(args: argparse.Namespace) -> None:
    data = args.file.read_bytes()
    content_type = XLSX_TYPE if args.file.suffix.lower() == ".xlsx" else "text/csv"
    say(f"importing {args.file} ({len(data):,} bytes, {content_type}) into province {args.province}"
        f"{' (dry run: nothing is written)' if args.dry_run else ''}")
    with client(args, "registry") as http, working("the registry checks and imports every row"):
        response = http.post("/products/import", params={"dry_run": str(args.dry_run).lower()},
                             content=upload(data, progress_every=8), headers={"Content-Type": content_type})
    fail(response)
    result = response.json()
    say(f"producers: {result['producers_created']} new, {result['producers_updated']} updated; products: "
        f"{result['products_created']} new, {result['products_updated']} updated, "
        f"{result['products_unchanged']} unchanged{' (dry run)' if result['dry_run'] else ''}")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


def report(args: argparse.Namespace) -> None:
    periods = [(str(m), f"{args.year}-{m:02d}") for m in args.month] + \
              [(f"quarters/{q}", f"{args.year}-q{q}") for q in args.quarter]
    if not periods:
        raise SystemExit("give --month or --quarter")
    args.out.mkdir(parents=True, exist_ok=True)
    extension = EXTENSIONS.get(args.format, args.format)
    with client(args, "monitoring") as http:
        for number, (path, label) in enumerate(periods, start=1):
            with working(f"[{number}/{len(periods)}] report {args.province} {label} ({args.format})"):
                response = http.get(f"/reports/{args.year}/{path}",
                                    params={"format": args.format, "digits": args.digits})
            fail(response)
            target = args.out / f"otop-report-{args.province}-{label}.{extension}"
            target.write_bytes(response.content)
            say(f"  wrote {target} ({len(response.content):,} bytes)")


def national_demo(args: argparse.Namespace) -> None:
    say(f"loading the national demo into {', '.join(urls_from(args).values())}, POS sales to {args.kafka}")
    try:
        summary = asyncio.run(load_national(urls_from(args), token_from(args, Role.DEPARTMENT), args.kafka,
                                            scale=args.scale, provinces=args.provinces, months=args.months,
                                            concurrency=args.concurrency, say=say))
    except LoadFailed as exc:
        raise SystemExit(f"national demo failed: {exc}") from exc
    out = args.out or args.state_dir / "national.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    say(f"summary written to {out}")
    print(json.dumps({k: v for k, v in summary.items() if k != "provinces"}, indent=2, ensure_ascii=False))


def fraction(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError("a fraction in (0, 1]")
    return number


def token(args: argparse.Namespace) -> None:
    print(token_from(argparse.Namespace(**{**vars(args), "token": None}), Role(args.role)))


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m deploy.local.cli", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    main.add_argument("--province", default=PROVINCE, help="DOPA province code (default 72, Suphanburi)")
    main.add_argument("--http-port", type=int, default=8001, help="the local stack's first service port")
    for name in SERVICES:
        main.add_argument(f"--url-{name}", help=f"base URL of the {name} service")
    main.add_argument("--token", help="bearer token (default: OTOP_TOKEN, else signed with the JWT key)")
    main.add_argument("--state-dir", type=Path, default=REPO / ".local", help="the local stack's state")
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="load the demo province (Suphanburi, June-September 2562)").set_defaults(run=demo)
    imports = commands.add_parser("import", help="import producers and products from a CSV or XLSX file")
    imports.add_argument("file", type=Path)
    imports.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
    imports.set_defaults(run=import_products)
    reports = commands.add_parser("report", help="export the monitoring report of months or fiscal quarters")
    reports.add_argument("--year", required=True, help="CE or BE (2019 or 2562); for quarters the fiscal year")
    reports.add_argument("--month", type=int, nargs="*", default=[])
    reports.add_argument("--quarter", type=int, nargs="*", default=[])
    reports.add_argument("--format", default="markdown", help="as the report endpoint takes it (json, markdown, ...)")
    reports.add_argument("--digits", default="arabic", help="arabic or thai")
    reports.add_argument("--out", type=Path, default=Path("."), help="directory for the files")
    reports.set_defaults(run=report)
    national = commands.add_parser("national-demo", help="load all 77 provinces' season (or a fraction) through "
                                   "the APIs and the POS ingress topic")
    national.add_argument("--scale", type=fraction, default=1.0,
                          help="fraction of the real producer and product counts (97,800 and 220,800); 1 by default")
    national.add_argument("--provinces", nargs="*", default=None, metavar="CODE", help="only these DOPA codes")
    national.add_argument("--months", nargs="*", type=int, default=list(MONTHS), choices=MONTHS,
                          help="months of 2562 (2019) to run (default June to September)")
    national.add_argument("--kafka", default=os.environ.get("OTOP_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
                          help="Kafka bootstrap for the POS sales (default OTOP_KAFKA_BOOTSTRAP, else the local stack's)")
    national.add_argument("--concurrency", type=int, default=12, help="HTTP requests in flight at most")
    national.add_argument("--out", type=Path, help="summary JSON (default <state dir>/national.json)")
    national.set_defaults(run=national_demo)
    tokens = commands.add_parser("token", help="print a bearer token signed with the JWT key")
    tokens.add_argument("--role", default=Role.PROVINCE_OFFICER.value, choices=[r.value for r in Role])
    tokens.set_defaults(run=token)
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
