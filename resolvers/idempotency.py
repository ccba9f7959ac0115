"""Idempotency keys for the create mutations: one key, one record, however often (and however concurrently) it is sent.

A create mutation that is given a key runs through `write_once`. In the mutation's one write
transaction it first looks the key up; if this user already used it for this mutation (within
`KEY_TTL`), nothing is written and the record it created is read again, as the caller may see it
now. Otherwise the key is claimed (a row, unique on user, mutation and key), the record is written
and the row is completed, all in that transaction. Two requests with one key at once: on SQLite
`BEGIN IMMEDIATE` runs their transactions one after the other, so the second finds the first's row;
on PostgreSQL the second's claim waits on the unique index until the first commits, then fails,
rolls back whole and answers the first's record. The same key with another input is refused.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.idempotency import KEY_MAX_LENGTH, KEY_TTL, IdempotencyKey
from resolvers.errors import BadInput, Conflict, Forbidden
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer

T = TypeVar("T")

FIELD = "idempotencyKey"
REUSED = "IDEMPOTENCY_KEY_REUSED"


@dataclass(frozen=True)
class Once:
    """A request made under an idempotency key: the mutation, the key, and what the request asked for."""

    operation: str
    key: str
    payload_hash: str


@dataclass(frozen=True)
class Record:
    """What a keyed request created: its type and id."""

    type: str
    id: int


def _plain(value: Any) -> Any:
    """JSON for the values inputs carry beyond JSON's own: enums by name, days and times in ISO 8601."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the payload as canonical JSON: keys sorted, no spaces."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def once(operation: str, key: str | None, payload: Mapping[str, Any]) -> Once | None:
    """The request's key, checked (1 to 100 printable ASCII characters), with its payload's hash; None without a key."""
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX_LENGTH or not all(" " <= c <= "~" for c in key):
        raise BadInput(
            f"An idempotency key is 1 to {KEY_MAX_LENGTH} printable ASCII characters, such as a UUID.", field=FIELD
        )
    return Once(operation=operation, key=key, payload_hash=payload_hash(payload))


async def _find(session: AsyncSession, user_id: int, request: Once) -> IdempotencyKey | None:
    """The key's row if this user used it for this mutation within KEY_TTL."""
    row: IdempotencyKey | None = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.operation == request.operation,
            IdempotencyKey.key == request.key,
            IdempotencyKey.created_at >= utcnow() - KEY_TTL,
        )
    )
    return row


def _same_request(row: IdempotencyKey, request: Once) -> Record:
    if row.payload_hash != request.payload_hash:
        raise Conflict(
            "This idempotency key was already used for a different request. Send a new key for a new request.",
            field=FIELD,
            reason=REUSED,
        )
    assert row.record_type is not None and row.record_id is not None  # completed before its transaction commits
    return Record(type=row.record_type, id=row.record_id)


async def _claim(session: AsyncSession, user_id: int, request: Once) -> IdempotencyKey:
    """Hold the key for this transaction; an expired row of the same key makes way first."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.operation == request.operation,
            IdempotencyKey.key == request.key,
            # Only an expired row: a live one committed since `_find` must stay and win the race below.
            IdempotencyKey.created_at < utcnow() - KEY_TTL,
        )
    )
    claim = IdempotencyKey(user_id=user_id, operation=request.operation, key=request.key, payload_hash=request.payload_hash)
    session.add(claim)
    # On PostgreSQL this waits while another transaction holds the same key, and fails once it commits.
    await session.flush()
    return claim


async def write_once(
    runtime: Runtime,
    viewer: Viewer,
    request: Once | None,
    write: Callable[[AsyncSession], Awaitable[T]],
    *,
    record: Callable[[T], Record],
    replay: Callable[[AsyncSession, int], Awaitable[T]],
) -> T:
    """Run `write` in one write transaction (with the key's row when there is a key), ring the hub after commit.

    `write` makes the change and returns the answer; `record` names what it created; `replay`
    answers a repeat from the stored record's id, in a read session, as the caller may see it now.
    """
    if request is None:
        async with runtime.db.write() as session:
            answer = await write(session)
        await runtime.announce()
        return answer
    if viewer.user_id is None:
        raise Forbidden("Idempotency keys are for signed-in users.", field=FIELD)
    user_id = viewer.user_id
    stored: Record | None = None
    claimed = False
    try:
        async with runtime.db.write() as session:
            row = await _find(session, user_id, request)
            if row is not None:
                stored = _same_request(row, request)
            else:
                claim = await _claim(session, user_id, request)
                claimed = True
                answer = await write(session)
                made = record(answer)
                claim.record_type, claim.record_id = made.type, made.id
    except IntegrityError:
        if claimed:
            raise  # the change's own constraint, not the key's
        # Another request with this key committed while this one waited for it: its record is the answer.
        async with runtime.db.read() as session:
            row = await _find(session, user_id, request)
        if row is None:
            raise Conflict("A request with this idempotency key was being made at the same moment; send it again.", field=FIELD) from None
        stored = _same_request(row, request)
    if stored is not None:
        async with runtime.db.read() as session:
            return await replay(session, stored.id)
    await runtime.announce()
    return answer
