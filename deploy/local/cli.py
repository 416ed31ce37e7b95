"""Command line for long work against running services, with progress output:

    python -m deploy.local.cli demo                                 # load the demo province
    python -m deploy.local.cli import products.xlsx [--dry-run]     # the registry's product import
    python -m deploy.local.cli report --year 2562 --month 6 7 8 9 --format markdown --out reports/
    python -m deploy.local.cli token --user demo-department         # print an access token
    python -m deploy.local.cli dlq list --topic otop.sales.ingress --reason failed --since 2h
    python -m deploy.local.cli dlq show otop.sales.ingress.dlq:0:17
    python -m deploy.local.cli dlq replay --topic otop.sales.ingress --reason failed [--dry-run]
    python -m deploy.local.cli national-demo [--scale 0.1] [--provinces 72 10]  # the 77 provinces

Services are found at --url-registry/-scheduling/-sales/-monitoring/-budget (or OTOP_<SERVICE>_URL), by
default the local stack's ports (--http-port, 8001 onwards). The bearer token comes from Keycloak, never
from here:
- --token (or OTOP_TOKEN): a token you already have;
- --client-id with OTOP_CLIENT_SECRET: the client credentials grant (automation; an integration's client);
- --user (default demo-officer-72) with OTOP_PASSWORD, or the local stack's password for its demo users
  (and a department account's one-time code: OTOP_ONE_TIME_CODE, or the demo account's kept secret's)
  (.local/demo-users.json): the password grant of the otop-cli client.
Keycloak's realm is --realm-url (or OTOP_REALM_URL), by default the local stack's (.local/keycloak.json).
See docs/local-stack.md and docs/identity.md.
"""

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from deploy.kafka.kafka_runner import LocalKafka
from deploy.keycloak.admin import AccessToken, TokenRefused, client_credentials_grant, password_grant
from deploy.keycloak.keycloak_runner import Keycloak
from deploy.keycloak.realm import CLI_CLIENT, REALM
from deploy.local import dlq
from deploy.local.accounts import DEMO_USERS, demo_users, one_time_codes
from deploy.local.demo import load_demo
from deploy.local.demo_data import MONTHS, PROVINCE
from deploy.local.national import LoadFailed, load_national
from deploy.local.processes import REPO, local_urls
from shared.service_names import SERVICES
from shared.settings import KafkaSettings

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {"json": "json", "text": "md", "markdown": "md"}  # any other format: the format's name
UPLOAD_CHUNK = 256 * 1024
DEFAULT_USER = "demo-officer-72"  # national-demo: demo-department


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


def realm_url(args: argparse.Namespace) -> str:
    if url := args.realm_url or os.environ.get("OTOP_REALM_URL"):
        return url.rstrip("/")
    stack = args.state_dir / "keycloak.json"
    if not stack.exists():
        raise SystemExit(
            f"where is Keycloak? give --realm-url (or OTOP_REALM_URL), or run the local stack "
            f"({stack} is missing)"
        )
    return f"{json.loads(stack.read_text())['url']}/realms/{REALM}"


def auth_from(args: argparse.Namespace) -> AccessToken:
    """The caller's token, from Keycloak (renewed while a long command runs)."""
    if token := args.token or os.environ.get("OTOP_TOKEN"):
        return AccessToken(lambda: {"access_token": token, "expires_in": 1e9})
    token_url = f"{realm_url(args)}/protocol/openid-connect/token"
    if args.client_id:
        secret = os.environ.get("OTOP_CLIENT_SECRET")
        if not secret:
            raise SystemExit("--client-id needs its secret in OTOP_CLIENT_SECRET")
        auth = AccessToken(lambda: client_credentials_grant(token_url, args.client_id, secret))
    else:
        password = os.environ.get("OTOP_PASSWORD") or stack_password(args)
        code = (
            (lambda: os.environ["OTOP_ONE_TIME_CODE"])
            if "OTOP_ONE_TIME_CODE" in os.environ
            else one_time_codes(args.state_dir, args.user)  # a demo department account's one-time password
        )
        auth = AccessToken(
            lambda: password_grant(token_url, CLI_CLIENT, args.user, password, code() if code else None)
        )
    try:
        auth()
    except (TokenRefused, httpx.HTTPError) as exc:
        raise SystemExit(f"Keycloak gave no token ({token_url}): {exc}") from exc
    return auth


def stack_password(args: argparse.Namespace) -> str:
    users = args.state_dir / "demo-users.json"
    known = json.loads(users.read_text()) if users.exists() else {}
    if args.user not in known:
        raise SystemExit(
            f"no password for {args.user}: set OTOP_PASSWORD (the local stack's demo users' "
            f"passwords are in {users})"
        )
    return known[args.user]


def urls_from(args: argparse.Namespace) -> dict[str, str]:
    defaults = local_urls(args.http_port)
    return {
        name: (
            getattr(args, f"url_{name}") or os.environ.get(f"OTOP_{name.upper()}_URL") or defaults[name]
        ).rstrip("/")
        for name in SERVICES
    }


def client(args: argparse.Namespace, service: str, timeout: float = 300) -> httpx.Client:
    return httpx.Client(
        base_url=f"{urls_from(args)[service]}/provinces/{args.province}",
        timeout=timeout,
        auth=auth_from(args),
    )


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
    # The department approves the demo's budget, when its account is known (the local stack's demo users).
    known = args.state_dir / "demo-users.json"
    department = json.loads(known.read_text()).get("demo-department") if known.exists() else None
    approver = None
    if department and not args.token:
        token_url = f"{realm_url(args)}/protocol/openid-connect/token"
        codes = one_time_codes(args.state_dir, "demo-department")  # department accounts must use TOTP
        approver = AccessToken(
            lambda: password_grant(
                token_url, CLI_CLIENT, "demo-department", department, codes() if codes else None
            )
        )
    summary = load_demo(urls_from(args), auth_from(args), progress=say, approver=approver)
    print(json.dumps(summary, indent=2, ensure_ascii=False))


def upload(data: bytes, progress_every: int) -> Iterator[bytes]:
    """The file in chunks, saying how much of it is sent."""
    sent = 0
    for start in range(0, len(data), UPLOAD_CHUNK):
        chunk = data[start : start + UPLOAD_CHUNK]
        yield chunk
        sent += len(chunk)
        if sent == len(data) or (start // UPLOAD_CHUNK) % progress_every == 0:
            say(f"  uploaded {sent:,} of {len(data):,} bytes ({100 * sent // len(data)}%)")


def import_products(args: argparse.Namespace) -> None:
    data = args.file.read_bytes()
    content_type = XLSX_TYPE if args.file.suffix.lower() == ".xlsx" else "text/csv"
    say(
        f"importing {args.file} ({len(data):,} bytes, {content_type}) into province {args.province}"
        f"{' (dry run: nothing is written)' if args.dry_run else ''}"
    )
    with client(args, "registry") as http, working("the registry checks and imports every row"):
        response = http.post(
            "/products/import",
            params={"dry_run": str(args.dry_run).lower()},
            content=upload(data, progress_every=8),
            headers={"Content-Type": content_type},
        )
    fail(response)
    result = response.json()
    say(
        f"producers: {result['producers_created']} new, {result['producers_updated']} updated; products: "
        f"{result['products_created']} new, {result['products_updated']} updated, "
        f"{result['products_unchanged']} unchanged{' (dry run)' if result['dry_run'] else ''}"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


def report(args: argparse.Namespace) -> None:
    periods = [(str(m), f"{args.year}-{m:02d}") for m in args.month] + [
        (f"quarters/{q}", f"{args.year}-q{q}") for q in args.quarter
    ]
    if not periods:
        raise SystemExit("give --month or --quarter")
    args.out.mkdir(parents=True, exist_ok=True)
    extension = EXTENSIONS.get(args.format, args.format)
    with client(args, "monitoring") as http:
        for number, (path, label) in enumerate(periods, start=1):
            with working(f"[{number}/{len(periods)}] report {args.province} {label} ({args.format})"):
                response = http.get(
                    f"/reports/{args.year}/{path}", params={"format": args.format, "digits": args.digits}
                )
            fail(response)
            target = args.out / f"otop-report-{args.province}-{label}.{extension}"
            target.write_bytes(response.content)
            say(f"  wrote {target} ({len(response.content):,} bytes)")


def accounts(args: argparse.Namespace) -> None:
    """The demo accounts (as the local stack makes them), with Keycloak's administrator's password."""
    username, password = os.environ.get("KEYCLOAK_ADMIN"), os.environ.get("KEYCLOAK_ADMIN_PASSWORD")
    if not (username and password):
        raise SystemExit("set KEYCLOAK_ADMIN and KEYCLOAK_ADMIN_PASSWORD (the master realm's administrator)")
    args.state_dir.mkdir(parents=True, exist_ok=True)
    keycloak = Keycloak(
        args.keycloak_url, admin_username=username, admin_password=password, sales_client_secret=""
    )
    passwords = demo_users(keycloak, args.state_dir)
    for username, *_, what in DEMO_USERS:
        print(f"{username:<18} password {passwords[username]:<22} {what}")


def moment(text: str) -> datetime:
    """An ISO time (UTC unless it says otherwise), or an age: 30m, 2h, 3d ago."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1] in units:
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def dlq_kafka(args: argparse.Namespace) -> KafkaSettings:
    """The operator's Kafka principal: OTOP_KAFKA_USERNAME / _PASSWORD (/ _SECURITY_PROTOCOL / _CA_FILE), else
    the local stack's administrator (its password in the state directory)."""
    if os.environ.get("OTOP_KAFKA_USERNAME"):
        return KafkaSettings(kafka_bootstrap=args.kafka_bootstrap)
    password = args.state_dir / "kafka" / "admin.password"
    if not password.exists():
        raise SystemExit(f"set OTOP_KAFKA_USERNAME and OTOP_KAFKA_PASSWORD (no local stack's {password})")
    return KafkaSettings(
        kafka_bootstrap=args.kafka_bootstrap,
        kafka_username=LocalKafka.admin_username,
        kafka_password=password.read_text().strip(),
    )


def dead_letters(args: argparse.Namespace) -> None:
    if args.dlq_command == "show":
        letter = asyncio.run(dlq.find(dlq_kafka(args), args.position))
        print(
            json.dumps(
                {
                    **letter.summary(),
                    "key": (letter.key or b"").decode(errors="replace"),
                    "headers": letter.headers,
                    "value": letter.value[: args.bytes].decode(errors="replace"),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    letters = asyncio.run(
        dlq.read(dlq_kafka(args), topics=args.topic, reasons=args.reason, since=args.since, until=args.until)
    )
    if args.dlq_command == "list":
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False))
        by_kind = Counter((letter.original_topic, letter.reason_code) for letter in letters)
        for (topic, code), count in sorted(by_kind.items()):
            say(f"{count:>8}  {topic}  {code}")
        say(f"{len(letters)} dead letter(s)")
        return
    if not (args.topic or args.reason or args.since or args.until or args.all):
        raise SystemExit("say what to replay (--topic, --reason, --since, --until), or --all")
    if args.dry_run:
        for letter in letters:
            say(f"would replay {letter.position} to {letter.original_topic} ({letter.reason_code})")
        say(f"{len(letters)} dead letter(s) would be replayed (dry run)")
        return
    replayed = asyncio.run(dlq.replay(dlq_kafka(args), letters, args.database_url))
    for position in replayed:
        print(position)
    say(f"{len(replayed)} dead letter(s) replayed to their original topics")


def national_demo(args: argparse.Namespace) -> None:
    if args.user == DEFAULT_USER:  # the whole country: the department's
        args.user = "demo-department"
    say(
        f"loading the national demo into {', '.join(urls_from(args).values())}, "
        f"POS sales to {args.kafka_bootstrap}"
    )
    try:
        summary = asyncio.run(
            load_national(
                urls_from(args),
                auth_from(args),
                dlq_kafka(args),
                args.kafka_ssl_bootstrap,
                args.kafka_ca_file or args.state_dir / "kafka" / "tls" / "ca.crt",
                scale=args.scale,
                provinces=args.provinces,
                months=args.months,
                concurrency=args.concurrency,
                say=say,
            )
        )
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
    print(auth_from(argparse.Namespace(**{**vars(args), "token": None}))())


def code(args: argparse.Namespace) -> None:
    """A demo account's current one-time code (what an authenticator app would show)."""
    codes = one_time_codes(args.state_dir, args.user)
    if codes is None:
        raise SystemExit(f"{args.user} has no one-time password kept in {args.state_dir}")
    print(codes())


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m deploy.local.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--province", default=PROVINCE, help="DOPA province code (default 72, Suphanburi)")
    main.add_argument("--http-port", type=int, default=8001, help="the local stack's first service port")
    for name in SERVICES:
        main.add_argument(f"--url-{name}", help=f"base URL of the {name} service")
    main.add_argument("--token", help="bearer token (default: OTOP_TOKEN, else one from Keycloak)")
    main.add_argument(
        "--user",
        default=DEFAULT_USER,
        help="log in as this user (password: OTOP_PASSWORD, else the local stack's for its demo users)",
    )
    main.add_argument("--client-id", help="log in as this client instead (secret: OTOP_CLIENT_SECRET)")
    main.add_argument(
        "--realm-url",
        help="Keycloak's realm, e.g. https://host/auth/realms/otop (default: "
        "OTOP_REALM_URL, else the local stack's)",
    )
    main.add_argument("--state-dir", type=Path, default=REPO / ".local", help="the local stack's state")
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="load the demo province (Suphanburi, June-September 2562)").set_defaults(
        run=demo
    )
    imports = commands.add_parser("import", help="import producers and products from a CSV or XLSX file")
    imports.add_argument("file", type=Path)
    imports.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")
    imports.set_defaults(run=import_products)
    reports = commands.add_parser("report", help="export the monitoring report of months or fiscal quarters")
    reports.add_argument(
        "--year", required=True, help="CE or BE (2019 or 2562); for quarters the fiscal year"
    )
    reports.add_argument("--month", type=int, nargs="*", default=[])
    reports.add_argument("--quarter", type=int, nargs="*", default=[])
    reports.add_argument(
        "--format", default="markdown", help="as the report endpoint takes it (json, markdown, ...)"
    )
    reports.add_argument("--digits", default="arabic", help="arabic or thai")
    reports.add_argument("--out", type=Path, default=Path("."), help="directory for the files")
    reports.set_defaults(run=report)
    dead = commands.add_parser("dlq", help="list, show or replay dead letters (docs/reliability.md)")
    dead.add_argument(
        "--kafka-bootstrap",
        default=os.environ.get("OTOP_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        help="Kafka (default OTOP_KAFKA_BOOTSTRAP, else the local stack's); the principal is "
        "OTOP_KAFKA_USERNAME / OTOP_KAFKA_PASSWORD, else the local stack's administrator",
    )
    dead_commands = dead.add_subparsers(dest="dlq_command", required=True)
    for name, purpose in (
        ("list", "the dead letters, one JSON line each; counts by topic and reason"),
        ("replay", "publish the originals again to their topics (idempotent)"),
    ):
        sub = dead_commands.add_parser(name, help=purpose)
        sub.add_argument("--topic", action="append", help="original or dead-letter topic (repeatable)")
        sub.add_argument("--reason", action="append", help="dlq-reason-code, e.g. malformed (repeatable)")
        sub.add_argument(
            "--since", type=moment, help="dead-lettered at or after: ISO time or age (30m, 2h, 3d)"
        )
        sub.add_argument("--until", type=moment, help="dead-lettered at or before: ISO time or age")
        sub.set_defaults(run=dead_letters)
    replays = dead_commands.choices["replay"]
    replays.add_argument("--all", action="store_true", help="every dead letter (when no filter is given)")
    replays.add_argument("--dry-run", action="store_true", help="say what would be replayed, send nothing")
    replays.add_argument(
        "--database-url",
        help="for truncated records: a URL of the server named in their "
        "dlq-original-ref, with credentials (default: user postgres at that address)",
    )
    show = dead_commands.add_parser("show", help="one dead letter: headers and value")
    show.add_argument("position", help="<dead-letter topic>:<partition>:<offset>, as list prints it")
    show.add_argument("--bytes", type=int, default=4000, help="how much of the value to print")
    show.set_defaults(run=dead_letters)
    made = commands.add_parser(
        "accounts", help="make the demo accounts in Keycloak (needs KEYCLOAK_ADMIN, KEYCLOAK_ADMIN_PASSWORD)"
    )
    made.add_argument(
        "--keycloak-url", required=True, help="Keycloak's /auth, e.g. http://keycloak:8080/auth"
    )
    made.set_defaults(run=accounts)
    national = commands.add_parser(
        "national-demo",
        help="load all 77 provinces' season (or a fraction) through the APIs and the POS ingress topic",
    )
    national.add_argument(
        "--scale",
        type=fraction,
        default=1.0,
        help="fraction of the real producer and product counts (97,800 and 220,800); 1 by default",
    )
    national.add_argument(
        "--provinces", nargs="*", default=None, metavar="CODE", help="only these DOPA codes"
    )
    national.add_argument(
        "--months",
        nargs="*",
        type=int,
        default=list(MONTHS),
        choices=MONTHS,
        help="months of 2562 (2019) to run (default June to September)",
    )
    national.add_argument(
        "--kafka-bootstrap",
        default=os.environ.get("OTOP_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        help="Kafka's SASL_PLAINTEXT listener (default OTOP_KAFKA_BOOTSTRAP, else the local stack's); "
        "the settle check's principal as for dlq, each province's POS its integration's own",
    )
    national.add_argument(
        "--kafka-ssl-bootstrap",
        default=os.environ.get("OTOP_KAFKA_SSL_BOOTSTRAP", "127.0.0.1:19094"),
        help="Kafka's SASL_SSL listener, the only one POS integrations log in on (default "
        "OTOP_KAFKA_SSL_BOOTSTRAP, else the local stack's)",
    )
    national.add_argument(
        "--kafka-ca-file", type=Path, help="the CA of its certificate (default the local stack's)"
    )
    national.add_argument("--concurrency", type=int, default=12, help="HTTP requests in flight at most")
    national.add_argument("--out", type=Path, help="summary JSON (default <state dir>/national.json)")
    national.set_defaults(run=national_demo)
    tokens = commands.add_parser("token", help="print an access token from Keycloak (--user or --client-id)")
    # Also after the command (`token --user demo-department`); SUPPRESS keeps a value given before it.
    tokens.add_argument("--user", default=argparse.SUPPRESS, help="as above")
    tokens.add_argument("--client-id", default=argparse.SUPPRESS, help="as above")
    tokens.set_defaults(run=token)
    codes = commands.add_parser("code", help="print a demo department account's current one-time code")
    codes.add_argument("--user", default=argparse.SUPPRESS, help="as above")
    codes.set_defaults(run=code)
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
