"""Settings read from the environment, in one place, so every entry point agrees."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

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


# Keys published in this repository (its tests' and benchmarks'): a token signed with one of them
# could be forged by anyone. Placeholders and keys of a few repeated characters are refused too.
KNOWN_SECRETS = frozenset(
    {
        "test-secret-key-for-signing-tokens-000",
        "referloop-bench-secret-key-not-for-production-0123456789",
    }
)
MIN_SECRET_BYTES = 32
HOW_TO_MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def secret_key_problem(secret: str) -> str | None:
    """Why a key cannot sign tokens in production, or None when it can."""
    if not secret:
        return "SECRET_KEY must be set outside development"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"SECRET_KEY is {len(secret.encode())} bytes long; production needs at least {MIN_SECRET_BYTES}"
    lowered = secret.lower()
    if secret in KNOWN_SECRETS or len(set(secret)) < 8 or any(word in lowered for word in ("change-me", "changeme", "change_me")):
        return "SECRET_KEY is a published or placeholder value"
    return None


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def public_url_from(env: Mapping[str, str]) -> str:
    """Where links in messages point: PUBLIC_URL if set, else the HOST and PORT the server listens on.

    A server bound to every address (0.0.0.0, ::) is reached on this machine as 127.0.0.1; one that
    others reach by another name sets PUBLIC_URL.
    """
    explicit = env.get("PUBLIC_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    host = env.get("HOST", "").strip() or DEFAULT_HOST
    if host in {"0.0.0.0", "::", "[::]"}:
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = env.get("PORT", "").strip() or str(DEFAULT_PORT)
    return f"http://{host}:{int(port)}"


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = f"sqlite+aiosqlite:///{VAR / 'referloop.sqlite3'}"
    broadcast_url: str = "memory://"
    secret_key: str = ""
    token_ttl_seconds: int = 12 * 3600
    outbox_retention_days: int = 7
    # How long audit log entries are kept before `referloop audit purge-list` lists them (HMIS: 7 years).
    audit_retention_years: int = 7
    subscriber_queue_size: int = 1000
    # How often each hub reads the outbox without a doorbell (LIVE_POLL_SECONDS).
    relay_interval_seconds: float = 2.0
    # Server processes sharing the work (REFERLOOP_WORKERS, set by `referloop serve --workers N`).
    workers: int = 1
    # How stale a live subscriber's sign-in session and memberships may get: every this often each
    # open subscription is checked, and one whose session ended or whose access changed is closed.
    viewer_refresh_seconds: float = 2.0
    # A session unused this long ends (HMIS "automatic logoff"); TOKEN_TTL_SECONDS ends it regardless.
    session_idle_seconds: int = 30 * 60
    # Failed sign-ins: this many for one account, or for one client address, within the window lock
    # that account (or address) out for the lockout.
    sign_in_account_failures: int = 5
    sign_in_address_failures: int = 50
    sign_in_window_seconds: int = 15 * 60
    sign_in_lockout_seconds: int = 15 * 60
    # Open websockets per user, and live subscriptions per user across them, in each server process.
    max_websockets_per_user: int = 20
    max_subscriptions_per_user: int = 50
    sql_echo: bool = False
    # Notifications. No SMTP_URL or SMS_URL: messages are written under `outbox_dir` (by default an
    # `outbox/` folder beside the SQLite file) so that development works offline.
    smtp_url: str = ""
    mail_from: str = "Referloop <no-reply@referloop.localhost>"
    sms_url: str = ""
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""
    outbox_dir: str = ""
    public_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    notifications_worker: bool = True
    notification_poll_seconds: float = 2.0
    notification_max_attempts: int = 6
    notification_retry_seconds: float = 30.0
    notification_lease_seconds: float = 120.0
    digest_interval_seconds: float = 3600.0
    link_ttl_seconds: int = 14 * 24 * 3600
    # The largest /graphql request body, in bytes (HTTP 413 above it); GRAPHQL_BODY_LIMIT.
    graphql_body_limit: int = 1024 * 1024
    # The rate of operation cost per caller (resolvers/rate_limit.py; README, "Limits"): a bucket of
    # `burst` refilled at `per_second`, per signed-in user, else per client address; burst 0: no limit.
    rate_limit_worker_burst: float = 1_500_000
    rate_limit_worker_per_second: float = 15_000
    rate_limit_seeker_burst: float = 500_000
    rate_limit_seeker_per_second: float = 5_000
    rate_limit_signed_out_burst: float = 50_000
    rate_limit_signed_out_per_second: float = 500
    # No single SQL statement runs longer (PostgreSQL statement_timeout, SQLite interrupts); 0: no limit.
    statement_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        # Development and tests sign with whatever they are given; a deployment refuses to start on a
        # key that anyone could guess.
        if not self.is_development and (problem := secret_key_problem(self.secret_key)) is not None:
            raise RuntimeError(f"{problem}: set it to a long random value, e.g. the output of {HOW_TO_MAKE_A_SECRET}")

    def workers_refused(self, workers: int | None = None) -> str | None:
        """Why this many server processes cannot share this database and bus, or None if they can."""
        count = self.workers if workers is None else workers
        if count <= 1:
            return None
        if make_url(self.database_url).get_backend_name() != "postgresql":
            return (
                f"{count} workers need PostgreSQL: set DATABASE_URL=postgresql+asyncpg://... "
                "(SQLite serves one process; run one worker)"
            )
        if self.broadcast_url.split("://", 1)[0] not in {"redis", "rediss"}:
            return (
                f"{count} workers need a bus between them: set BROADCAST_URL=redis://host:6379 "
                f"({self.broadcast_url} rings only its own process, so the others would learn of a change "
                "only by polling, seconds late)"
            )
        return None

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}

    @property
    def outbox_path(self) -> Path:
        if self.outbox_dir:
            return Path(self.outbox_dir)
        database = make_url(self.database_url).database
        if make_url(self.database_url).get_backend_name() == "sqlite" and database and database != ":memory:":
            return Path(database).resolve().parent / "outbox"
        return VAR / "outbox"

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        environment = env.get("REFERLOOP_ENV", "development")
        secret = env.get("SECRET_KEY", "")
        if not secret and environment in {"development", "test"}:
            secret = _default_secret()
        values: dict[str, object] = {
            "environment": environment,
            "database_url": env.get("DATABASE_URL", cls.database_url),
            "broadcast_url": env.get("BROADCAST_URL", cls.broadcast_url),
            "secret_key": secret,
            "token_ttl_seconds": int(env.get("TOKEN_TTL_SECONDS", cls.token_ttl_seconds)),
            "outbox_retention_days": int(env.get("OUTBOX_RETENTION_DAYS", cls.outbox_retention_days)),
            "audit_retention_years": int(env.get("AUDIT_RETENTION_YEARS", cls.audit_retention_years)),
            "subscriber_queue_size": int(env.get("SUBSCRIBER_QUEUE_SIZE", cls.subscriber_queue_size)),
            "viewer_refresh_seconds": float(env.get("VIEWER_REFRESH_SECONDS", cls.viewer_refresh_seconds)),
            "session_idle_seconds": int(env.get("SESSION_IDLE_SECONDS", cls.session_idle_seconds)),
            "sign_in_account_failures": int(env.get("SIGN_IN_ACCOUNT_FAILURES", cls.sign_in_account_failures)),
            "sign_in_address_failures": int(env.get("SIGN_IN_ADDRESS_FAILURES", cls.sign_in_address_failures)),
            "sign_in_window_seconds": int(env.get("SIGN_IN_WINDOW_SECONDS", cls.sign_in_window_seconds)),
            "sign_in_lockout_seconds": int(env.get("SIGN_IN_LOCKOUT_SECONDS", cls.sign_in_lockout_seconds)),
            "max_websockets_per_user": int(env.get("MAX_WEBSOCKETS_PER_USER", cls.max_websockets_per_user)),
            "max_subscriptions_per_user": int(env.get("MAX_SUBSCRIPTIONS_PER_USER", cls.max_subscriptions_per_user)),
            "relay_interval_seconds": float(env.get("LIVE_POLL_SECONDS", cls.relay_interval_seconds)),
            "workers": int(env.get("REFERLOOP_WORKERS", cls.workers)),
            "sql_echo": env.get("SQL_ECHO", "") == "1",
            "smtp_url": env.get("SMTP_URL", cls.smtp_url),
            "mail_from": env.get("MAIL_FROM", cls.mail_from),
            "sms_url": env.get("SMS_URL", cls.sms_url),
            "sms_account_sid": env.get("SMS_ACCOUNT_SID", cls.sms_account_sid),
            "sms_auth_token": env.get("SMS_AUTH_TOKEN", cls.sms_auth_token),
            "sms_from": env.get("SMS_FROM", cls.sms_from),
            "outbox_dir": env.get("OUTBOX_DIR", cls.outbox_dir),
            "public_url": public_url_from(env),
            # 0 when `referloop worker` runs as its own process and the web servers should not send.
            "notifications_worker": env.get("NOTIFICATIONS_WORKER", "1") != "0",
            "notification_max_attempts": int(env.get("NOTIFICATION_MAX_ATTEMPTS", cls.notification_max_attempts)),
            "graphql_body_limit": int(env.get("GRAPHQL_BODY_LIMIT", cls.graphql_body_limit)),
            "statement_timeout_seconds": float(env.get("STATEMENT_TIMEOUT_SECONDS", cls.statement_timeout_seconds)),
        }
        for name in (
            "rate_limit_worker_burst",
            "rate_limit_worker_per_second",
            "rate_limit_seeker_burst",
            "rate_limit_seeker_per_second",
            "rate_limit_signed_out_burst",
            "rate_limit_signed_out_per_second",
        ):
            values[name] = float(env.get(name.upper(), getattr(cls, name)))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
