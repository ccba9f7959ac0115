"""A real server per test: a freshly migrated SQLite file, uvicorn on loopback, the real protocols."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from db import migrate
from db.engine import Database
from db.settings import Settings
from tests.support import Api, Network, build_network
from web.app import create_app


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "referloop.sqlite3"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-for-signing-tokens-000",
        subscriber_queue_size=64,
        relay_interval_seconds=0.5,
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
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    instance.should_exit = True
    await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def api(server: str) -> AsyncIterator[Api]:
    async with Api(server) as client:
        yield client
