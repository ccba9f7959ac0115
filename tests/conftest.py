"""A real server per test: a freshly migrated SQLite file, uvicorn on loopback, the real protocols."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from db import migrate
from db.engine import Database
from db.settings import Settings
from tests.support import Api, Network, build_network, serve
from web.app import create_app


# `make test` runs the suite twice: on SQLite with the in-memory bus, then on PostgreSQL and Redis.
POSTGRES = os.environ.get("TEST_POSTGRES_URL")  # e.g. postgresql+asyncpg://postgres@127.0.0.1:54329
BROADCAST = os.environ.get("TEST_BROADCAST_URL", "memory://")
TEMPLATE_DB = "referloop_template"
_numbers = itertools.count()


def _postgres_admin() -> Engine:
    assert POSTGRES
    # Pre-ping: a test may restart the server (tests/test_faults.py), and the pool must not keep dead connections.
    return create_engine(POSTGRES.replace("+asyncpg", "+psycopg") + "/postgres", isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run, copied for every test."""
    if POSTGRES is None:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        migrate.upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)
        return
    admin = _postgres_admin()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
        c.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
    migrate.upgrade(f"{POSTGRES}/{TEMPLATE_DB}")
    yield TEMPLATE_DB
    admin.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if POSTGRES is None:
        path = tmp_path / "referloop.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"referloop_test_{os.getpid()}_{next(_numbers)}"
    admin = _postgres_admin()
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name} TEMPLATE {migrated_template} STRATEGY FILE_COPY"))
    yield f"{POSTGRES}/{name}"
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        broadcast_url=BROADCAST,
        secret_key="test-secret-key-for-signing-tokens-000",
        subscriber_queue_size=64,
        relay_interval_seconds=0.5,
        viewer_refresh_seconds=0.5,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def network(db: Database) -> Network:
    """Two organizations with live and external programs, navigators, staff and seekers."""
    return await build_network(db)


@pytest.fixture
async def server(settings: Settings, network: Network) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as host:
        yield host


@pytest.fixture
async def api(server: str) -> AsyncIterator[Api]:
    async with Api(server) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.figures import FIGURES

    if FIGURES:
        database = "PostgreSQL" if POSTGRES else "SQLite"
        terminalreporter.section(f"hostile figures ({database})")
        for line in FIGURES:
            terminalreporter.write_line(line)
