"""Settings read from the environment, in one place, so every entry point agrees."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def _default_secret() -> str:
    # Development keeps one key across restarts so that signed-in dashboards stay signed in.
    VAR.mkdir(exist_ok=True)
    path = VAR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = f"sqlite+aiosqlite:///{VAR / 'referloop.sqlite3'}"
    broadcast_url: str = "memory://"
    secret_key: str = ""
    token_ttl_seconds: int = 12 * 3600
    outbox_retention_days: int = 7
    subscriber_queue_size: int = 256
    relay_interval_seconds: float = 2.0
    sql_echo: bool = False

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        environment = env.get("REFERLOOP_ENV", "development")
        secret = env.get("SECRET_KEY", "")
        if not secret:
            if environment not in {"development", "test"}:
                raise RuntimeError("SECRET_KEY must be set outside development")
            secret = _default_secret()
        values: dict[str, object] = {
            "environment": environment,
            "database_url": env.get("DATABASE_URL", cls.database_url),
            "broadcast_url": env.get("BROADCAST_URL", cls.broadcast_url),
            "secret_key": secret,
            "token_ttl_seconds": int(env.get("TOKEN_TTL_SECONDS", cls.token_ttl_seconds)),
            "outbox_retention_days": int(env.get("OUTBOX_RETENTION_DAYS", cls.outbox_retention_days)),
            "subscriber_queue_size": int(env.get("SUBSCRIBER_QUEUE_SIZE", cls.subscriber_queue_size)),
            "sql_echo": env.get("SQL_ECHO", "") == "1",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
