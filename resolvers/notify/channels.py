"""How a rendered message leaves: email over SMTP, texts over an HTTP provider, or a local folder.

Without SMTP_URL (or SMS_URL) messages go to a folder under `var/` so development works offline:
mail as maildir (written to tmp/, renamed into new/), texts as one JSON file each. File names come
from the notification's idempotency key, so writing the same message twice leaves one file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib
import httpx

from db.settings import Settings

SMTP_TIMEOUT_SECONDS = 30.0
SMS_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class Email:
    key: str
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Text:
    key: str
    to: str
    body: str


class SendError(Exception):
    """A message that did not go; `permanent` means trying again cannot help (a 5xx, a bad number)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def message_id(key: str, sender: str) -> str:
    """Stable per notification: a resend after a crash carries the same Message-ID, so it can be deduplicated."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "referloop.localhost"
    return f"<{key_digest(key)}@{domain}>"


def build_email(email: Email, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(email.key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class Mailer(Protocol):
    async def send(self, email: Email) -> str | None: ...

    async def close(self) -> None: ...


class SmtpMailer:
    """One SMTP connection, opened on first use and kept across a batch; reopened after any failure."""

    def __init__(self, url: str, *, sender: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:port")
        query = parse_qs(parsed.query)
        self.sender = sender
        self._options = {
            "hostname": parsed.hostname or "127.0.0.1",
            "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "username": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None,
            "use_tls": parsed.scheme == "smtps",
            # None: STARTTLS when the server offers it; ?starttls=1 requires it, ?starttls=0 never.
            "start_tls": {"1": True, "0": False}.get(query.get("starttls", [""])[0]),
            "timeout": SMTP_TIMEOUT_SECONDS,
        }
        self._client: aiosmtplib.SMTP | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            client = aiosmtplib.SMTP(**self._options)  # type: ignore[arg-type]
            await client.connect()
            self._client = client
        return self._client

    async def send(self, email: Email) -> str | None:
        message = build_email(email, sender=self.sender)
        try:
            client = await self._connected()
            errors, response = await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            await self.close()
            code = min((r.code for r in error.recipients), default=0)
            raise SendError(f"recipient refused: {error}", permanent=code >= 500) from None
        except aiosmtplib.SMTPResponseException as error:
            await self.close()
            raise SendError(f"SMTP {error.code}: {error.message}", permanent=error.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            await self.close()
            raise SendError(f"SMTP: {error!r}") from None
        if errors:
            raise SendError(f"recipient refused: {errors}", permanent=True)
        return str(message["Message-ID"])

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


def _write_atomically(folder: Path, name: str, data: bytes) -> Path:
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    staged = folder / "tmp" / name
    with open(staged, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    final = folder / "new" / name
    os.replace(staged, final)
    return final


class FolderMailer:
    def __init__(self, folder: Path, *, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, email: Email) -> str | None:
        message = build_email(email, sender=self.sender)
        await asyncio.to_thread(_write_atomically, self.folder, f"{key_digest(email.key)}.eml", message.as_bytes())
        return str(message["Message-ID"])

    async def close(self) -> None:
        return None


class SmsProvider(Protocol):
    async def send(self, text: Text) -> str | None: ...

    async def close(self) -> None: ...


class TwilioSms:
    """Twilio's REST shape: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form To/From/Body, basic auth."""

    def __init__(self, base_url: str, *, account_sid: str, auth_token: str, sender: str) -> None:
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.sender = sender
        self._http = httpx.AsyncClient(auth=(account_sid, auth_token), timeout=SMS_TIMEOUT_SECONDS)

    async def send(self, text: Text) -> str | None:
        try:
            response = await self._http.post(
                self.url,
                data={"To": text.to, "From": self.sender, "Body": text.body},
                # Honoured by providers that deduplicate; harmless elsewhere.
                headers={"Idempotency-Key": key_digest(text.key)},
            )
        except httpx.HTTPError as error:
            raise SendError(f"SMS provider unreachable: {error!r}") from None
        if response.status_code >= 400:
            transient = response.status_code >= 500 or response.status_code in (408, 429)
            raise SendError(f"SMS provider said {response.status_code}: {response.text[:300]}", permanent=not transient)
        try:
            return str(response.json().get("sid") or "") or None
        except ValueError:
            return None

    async def close(self) -> None:
        await self._http.aclose()


class FolderSms:
    def __init__(self, folder: Path, *, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, text: Text) -> str | None:
        body = json.dumps({"To": text.to, "From": self.sender, "Body": text.body}, ensure_ascii=False).encode()
        name = f"{key_digest(text.key)}.json"
        await asyncio.to_thread(_write_atomically, self.folder, name, body)
        return name

    async def close(self) -> None:
        return None


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, sender=settings.mail_from)
    return FolderMailer(settings.outbox_path / "mail", sender=settings.mail_from)


def sms_for(settings: Settings) -> SmsProvider:
    sender = settings.sms_from or "+15005550006"
    if settings.sms_url:
        return TwilioSms(
            settings.sms_url, account_sid=settings.sms_account_sid, auth_token=settings.sms_auth_token, sender=sender
        )
    return FolderSms(settings.outbox_path / "sms", sender=sender)
