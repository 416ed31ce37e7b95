"""python -m shared.migrations {revision SERVICE MESSAGE | upgrade SERVICE} --database-url URL"""

import argparse
import asyncio

from alembic import command

from shared.db import make_engine
from shared.migrations import __doc__ as guide
from shared.migrations import alembic_config, service_metadata, upgrade


async def run(args: argparse.Namespace) -> None:
    metadata = service_metadata(args.service)
    engine = make_engine(args.database_url)
    try:
        await upgrade(engine, args.service, metadata)
        if args.command == "revision":
            async with engine.begin() as conn:
                await conn.run_sync(
                    lambda sync: command.revision(
                        alembic_config(args.service, sync, metadata), message=args.message, autogenerate=True
                    )
                )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m shared.migrations",
        description=guide,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a revision from the service's tables.py")
    revision.add_argument("service")
    revision.add_argument("message")
    up = commands.add_parser("upgrade", help="bring a service's database to its newest revision")
    up.add_argument("service")
    for sub in (revision, up):
        sub.add_argument(
            "--database-url", required=True, help="postgresql://... (for revision: a scratch database)"
        )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
