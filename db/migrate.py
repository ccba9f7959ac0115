"""Running Alembic from code: for the CLI and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from db.settings import ROOT


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(Path(ROOT) / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None) -> None:
    """Bring the database to the newest schema (blocking: call it outside the event loop)."""
    command.upgrade(alembic_config(database_url), "head")


def check(database_url: str | None = None) -> None:
    """Fail if the models and the migrations disagree."""
    command.check(alembic_config(database_url))
