"""`referloop` (or `python -m web.cli`): migrate, seed the demo, serve, send notifications."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvicorn

from db import migrate
from db.engine import Database
from db.seed import seed_demo
from db.settings import Settings
from resolvers.notify.delivery import DeliveryWorker


def _migrate(args: argparse.Namespace) -> None:
    migrate.upgrade()
    print("database is at the newest schema")


def _seed(args: argparse.Namespace) -> None:
    async def run() -> None:
        db = Database(Settings.from_env().database_url)
        try:
            summary = await seed_demo(db, if_empty=args.if_empty)
        finally:
            await db.dispose()
        print(f"demo seed: {summary}")

    asyncio.run(run())


def _worker(args: argparse.Namespace) -> None:
    async def run() -> None:
        settings = Settings.from_env(notifications_worker=False)
        db = Database(settings.database_url)
        worker = DeliveryWorker(settings, db)
        try:
            if args.once:
                result = await worker.run_once()
                while result.claimed:
                    print(f"claimed {result.claimed}: sent {result.sent}, to retry {result.retried}, failed {result.failed}")
                    result = await worker.run_once()
                return
            stopping = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
            await worker.start()
            print(f"notification worker {worker.worker_id} is sending; Ctrl-C stops it")
            await stopping.wait()
        finally:
            await worker.stop()
            await db.dispose()

    asyncio.run(run())


def _serve(args: argparse.Namespace) -> None:
    uvicorn.run("web.app:app", host=args.host, port=args.port, proxy_headers=False, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="referloop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database to the newest schema").set_defaults(run=_migrate)
    seed = commands.add_parser("seed", help="load the demo network (development only)")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no organizations")
    seed.set_defaults(run=_seed)
    serve = commands.add_parser("serve", help="serve the API and the dashboards")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    worker = commands.add_parser(
        "worker", help="send notifications (run web servers with NOTIFICATIONS_WORKER=0 to leave it to this)"
    )
    worker.add_argument("--once", action="store_true", help="send what is due now, then exit")
    worker.set_defaults(run=_worker)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
