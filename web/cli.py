"""`referloop` (or `python -m web.cli`): migrate, seed the demo, serve, send notifications, export HMIS CSV, list audit entries past retention, add users and set passwords."""

from __future__ import annotations

import argparse
import asyncio
import csv
import enum
import getpass
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import uvicorn

from db import migrate
from db.engine import Database
from db.accounts import Role
from db.seed import seed_demo
from db.settings import ROOT, Settings
from resolvers.accounts import add_user, set_password
from resolvers.audit import purge_list, retention_cutoff
from resolvers.errors import DomainError
from resolvers.hmis_export import export_hmis_csv_as_system
from resolvers.notify.delivery import DeliveryWorker
from resolvers import words
from resolvers.policy import rules_markdown
from resolvers.runtime import Runtime
from web.serving import UVICORN_OPTIONS


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


CANNOT_WRITE = 2  # the exit status for a file that cannot be written, as for a usage error


def _cannot_write(out: Path, reason: str) -> NoReturn:
    print(f"referloop export hmis-csv: cannot write {out}: {reason}", file=sys.stderr)
    raise SystemExit(CANNOT_WRITE)


def _check_writable(out: Path) -> None:
    """Refuse a file that cannot be written before anything is exported (and recorded as exported)."""
    folder = out.parent
    if out.is_dir():
        _cannot_write(out, "that is a directory; give the zip file's name, e.g. --out hmis.zip")
    if not folder.is_dir():
        _cannot_write(out, f"the directory {folder} does not exist")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        _cannot_write(out, "permission denied")


def _export_hmis_csv(args: argparse.Namespace) -> None:
    out = Path(args.out)
    _check_writable(out)

    async def run() -> None:
        db = Database(Settings.from_env().database_url)
        try:
            export = await export_hmis_csv_as_system(db, coc_code=args.coc, start=args.start, end=args.end)
        except DomainError as error:
            raise SystemExit(f"referloop export hmis-csv: {error.message}") from None
        finally:
            await db.dispose()
        try:
            out.write_bytes(export.content)
        except OSError as error:
            _cannot_write(out, error.strerror or str(error))
        rows = ", ".join(f"{name} {count}" for name, count in export.rows.items())
        print(f"wrote {args.out} (export {export.export_id}): {rows}")

    asyncio.run(run())


PURGE_COLUMNS = (
    "id", "at", "user_id", "actor_email", "acting_organization_id", "acting_role", "seeker_id", "scopes", "action",
    "operation", "subject_type", "subject_id",
)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value.name if isinstance(value, enum.Enum) else value


def _audit_purge_list(args: argparse.Namespace) -> None:
    """Print, as CSV, the audit entries older than the retention: listed for purge, never deleted here."""

    async def run() -> None:
        settings = Settings.from_env()
        years = args.older_than if args.older_than is not None else settings.audit_retention_years
        try:
            cutoff = retention_cutoff(years)
        except DomainError as error:
            raise SystemExit(f"referloop audit purge-list: {error.message}") from None
        db = Database(settings.database_url)
        out = csv.writer(sys.stdout)
        out.writerow(PURGE_COLUMNS)
        count = 0
        try:
            async for entry in purge_list(db, older_than_years=years):
                out.writerow([_csv_value(getattr(entry, column)) for column in PURGE_COLUMNS])
                count += 1
        finally:
            await db.dispose()
        print(f"{count} entries older than {years} years (before {cutoff.isoformat()}) are listed for purge; none was deleted", file=sys.stderr)

    asyncio.run(run())


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


ARCHITECTURE = ROOT / "docs" / "architecture.md"
TABLES_START = "<!-- policy tables: generated by `make docs` from resolvers/policy -->\n"
TABLES_END = "<!-- end of policy tables -->"


def with_policy_tables(text: str) -> str:
    """`text` (docs/architecture.md) with its policy tables printed afresh from the code."""
    head, _, rest = text.partition(TABLES_START)
    _, _, tail = rest.partition(TABLES_END)
    return f"{head}{TABLES_START}{rules_markdown()}{TABLES_END}{tail}"


WORDS_JSON = ROOT / "web" / "app" / "src" / "lib" / "words.json"


def words_json() -> str:
    """web/app/src/lib/words.json as resolvers/words.py has it: the dashboards' copy of the vocabulary."""
    return json.dumps(words.as_json(), indent=2, ensure_ascii=False) + "\n"


def _docs(args: argparse.Namespace) -> None:
    ARCHITECTURE.write_text(with_policy_tables(ARCHITECTURE.read_text()))
    print(f"policy tables written into {ARCHITECTURE.relative_to(ROOT)}")
    WORDS_JSON.write_text(words_json())
    print(f"status and kind words written into {WORDS_JSON.relative_to(ROOT)}")


def _new_password() -> str:
    """Typed twice at a terminal; read as one line from a pipe (for scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        print("the two passwords differ; nothing changed", file=sys.stderr)
        raise SystemExit(1)
    return first


def _with_runtime(action: str, run: Callable[[Runtime], Awaitable[str]]) -> None:
    async def go() -> str:
        # Not started: no hub nor sender runs, only the database is used.
        runtime = Runtime.create(Settings.from_env(notifications_worker=False))
        try:
            return await run(runtime)
        finally:
            await runtime.db.dispose()

    try:
        print(asyncio.run(go()))
    except DomainError as error:
        print(f"{action}: {error.message}", file=sys.stderr)
        raise SystemExit(1) from None


def _user_set_password(args: argparse.Namespace) -> None:
    password = _new_password()

    async def run(runtime: Runtime) -> str:
        await set_password(runtime, email=args.email, password=password)
        return f"password set for {args.email}; its sessions are signed out"

    _with_runtime("could not set the password", run)


def _user_add(args: argparse.Namespace) -> None:
    password = _new_password()

    async def run(runtime: Runtime) -> str:
        role = Role[args.role] if args.role else None
        user_id = await add_user(
            runtime, email=args.email, name=args.name, password=password, organization_id=args.organization, role=role
        )
        return f"added {args.email} (user {user_id})"

    _with_runtime("could not add the user", run)


def _serve(args: argparse.Namespace) -> None:
    # The app reads its settings from the environment: links in messages follow the address served
    # (db.settings.public_url_from), unless PUBLIC_URL says otherwise.
    os.environ["HOST"], os.environ["PORT"] = args.host, str(args.port)
    refused = Settings.from_env().workers_refused(args.workers)
    if refused:
        raise SystemExit(f"referloop serve: {refused}")
    # Each worker process checks again as it starts (web.app), whoever started it.
    os.environ["REFERLOOP_WORKERS"] = str(args.workers)
    # Behind a reverse proxy that ends TLS, --forwarded-allow-ips names it: uvicorn then takes the
    # scheme (and client address) from its X-Forwarded-* headers, and only from it (web/headers.py
    # sends HSTS once the scheme is https). Without the option no forwarded header is believed.
    uvicorn.run(
        "web.app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.forwarded_allow_ips is not None,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="info",
        **UVICORN_OPTIONS,
    )


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
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses of the reverse proxy whose X-Forwarded-Proto and -For to trust",
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (several need PostgreSQL and BROADCAST_URL=redis://...)"
    )
    serve.set_defaults(run=_serve)
    commands.add_parser("docs", help="print the policy's tables into docs/architecture.md").set_defaults(run=_docs)
    worker = commands.add_parser(
        "worker", help="send notifications (run web servers with NOTIFICATIONS_WORKER=0 to leave it to this)"
    )
    worker.add_argument("--once", action="store_true", help="send what is due now, then exit")
    worker.set_defaults(run=_worker)
    export = commands.add_parser("export", help="export data for other systems").add_subparsers(dest="format", required=True)
    hmis = export.add_parser("hmis-csv", help="a CoC's HUD HMIS CSV (FY2024) export over a date range, as a zip")
    hmis.add_argument("--coc", required=True, help="the CoC's code, e.g. CA-600")
    hmis.add_argument("--from", dest="start", required=True, type=_day, help="first day, YYYY-MM-DD")
    hmis.add_argument("--to", dest="end", required=True, type=_day, help="last day, YYYY-MM-DD")
    hmis.add_argument("--out", required=True, help="the zip file to write")
    hmis.set_defaults(run=_export_hmis_csv)
    audit = commands.add_parser("audit", help="the audit log of personal-data access").add_subparsers(dest="audit", required=True)
    purge = audit.add_parser(
        "purge-list", help="print (CSV) the entries older than the retention, listed for purge; deletes nothing"
    )
    purge.add_argument(
        "--older-than", type=int, default=None, metavar="YEARS", help="retention in years (default AUDIT_RETENTION_YEARS, 7)"
    )
    purge.set_defaults(run=_audit_purge_list)
    user = commands.add_parser("user", help="accounts: add one, set a password").add_subparsers(dest="user", required=True)
    add = user.add_parser("add", help="add an account; the password is asked for (or read from a pipe)")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--organization", type=int, default=None, metavar="ID", help="an organization to be a member of")
    add.add_argument("--role", choices=[r.name for r in Role], default=None, help="the role in it (default NAVIGATOR)")
    add.set_defaults(run=_user_add)
    set_pw = user.add_parser("set-password", help="set an account's password and sign out its sessions")
    set_pw.add_argument("email")
    set_pw.set_defaults(run=_user_set_password)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
