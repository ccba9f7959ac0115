"""Real receivers on loopback for notification tests: an SMTP server (aiosmtpd) and an SMS provider.

Import the fixtures into a test module to have its server send there:
`from tests.mailboxes import settings, sms_provider, smtp_server  # noqa: F401`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from db.engine import Database
from db.notifications import Notification, NotificationStatus
from db.settings import Settings
from tests.conftest import BROADCAST

SMS_SID = "ACtest0000000000000000000000000000"
SMS_TOKEN = "sms-test-token"
SMS_FROM = "+12025550100"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpRecorder:
    """An aiosmtpd handler keeping every accepted message; it can refuse the next N with a reply."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals: list[str] = []
        self.refused = 0
        self._lock = threading.Lock()

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Mailbox busy, try again later") -> None:
        with self._lock:
            self.refusals.extend([reply] * count)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refusals:
                self.refused += 1
                return self.refusals.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 2.0.0 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def body_text(message: EmailMessage, subtype: str = "plain") -> str:
    """The text of a message's text/plain (or text/html) body; fails if it has none."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} body in {message['Subject']!r}"
    text: str = part.get_content()
    return text


@dataclass
class SmsRequest:
    path: str
    form: dict[str, str]
    username: str
    password: str


class SmsRecorder:
    def __init__(self) -> None:
        self.requests: list[SmsRequest] = []
        self.fail_next = 0


def _sms_handler(recorder: SmsRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server naming
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            user, _, password = base64.b64decode(self.headers["authorization"].split()[1]).decode().partition(":")
            if recorder.fail_next:
                recorder.fail_next -= 1
                self._reply(503, {"message": "try later"})
                return
            form = {k: v[0] for k, v in parse_qs(body).items()}
            recorder.requests.append(SmsRequest(path=self.path, form=form, username=user, password=password))
            self._reply(201, {"sid": f"SM{len(recorder.requests):032d}", "status": "queued"})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpRecorder, int]]:
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


@pytest.fixture
def sms_provider() -> Iterator[tuple[SmsRecorder, int]]:
    recorder = SmsRecorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _sms_handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder, int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp(smtp_server: tuple[SmtpRecorder, int]) -> SmtpRecorder:
    return smtp_server[0]


@pytest.fixture
def sms(sms_provider: tuple[SmsRecorder, int]) -> SmsRecorder:
    return sms_provider[0]


def notification_settings(database_url: str, smtp_port: int, sms_port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-for-signing-tokens-000",
        "subscriber_queue_size": 64,
        "relay_interval_seconds": 0.5,
        "broadcast_url": BROADCAST,
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}",
        "mail_from": "Referloop <no-reply@referloop.test>",
        "sms_url": f"http://127.0.0.1:{sms_port}",
        "sms_account_sid": SMS_SID,
        "sms_auth_token": SMS_TOKEN,
        "sms_from": SMS_FROM,
        "public_url": "http://referloop.test",
        "notification_poll_seconds": 0.2,
        "notification_retry_seconds": 0.1,
        "notification_max_attempts": 4,
        "notification_lease_seconds": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, smtp_server: tuple[SmtpRecorder, int], sms_provider: tuple[SmsRecorder, int]) -> Settings:
    """The conftest's settings, sending through the loopback SMTP server and SMS provider."""
    return notification_settings(database_url, smtp_server[1], sms_provider[1])


async def settled(db: Database, *, timeout: float = 10.0) -> dict[NotificationStatus, int]:
    """Wait until no notification is waiting or being sent; the count per status."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.read() as session:
            rows = await session.execute(select(Notification.status, func.count()).group_by(Notification.status))
            counts = {status: int(n) for status, n in rows.all()}
        busy = counts.get(NotificationStatus.PENDING, 0) + counts.get(NotificationStatus.SENDING, 0)
        if not busy:
            return counts
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"notifications still in flight: {counts}")
        await asyncio.sleep(0.05)
