"""Idempotency keys: which creation a caller's key stands for, so that a repeat answers it instead of creating again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, delete
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow

KEY_MAX_LENGTH = 100
# How long a key stands for its record; an older one is forgotten (lazily, and by the live hub's hourly prune).
KEY_TTL = timedelta(hours=24)
OPERATION_MAX_LENGTH = 64


class IdempotencyKey(Base):
    """One key of one user for one mutation, written in the same transaction as the record it created."""

    __tablename__ = "idempotency_keys"
    # The unique constraint is what makes concurrent repeats safe: the second INSERT waits for the
    # first transaction and fails once it commits.
    __table_args__ = (
        UniqueConstraint("user_id", "operation", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The mutation's field name, e.g. "createReferral".
    operation: Mapped[str] = mapped_column(String(OPERATION_MAX_LENGTH))
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    # SHA-256 of the request's input as sorted JSON, the key itself left out.
    payload_hash: Mapped[str] = mapped_column(String(64))
    # The record the request created; set before the transaction commits, so never seen empty by others.
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def prune_expired_keys(session: AsyncSession) -> int:
    """Forget keys older than KEY_TTL; their requests may then be made again."""
    expired = IdempotencyKey.created_at < utcnow() - KEY_TTL
    result = cast("CursorResult[Any]", await session.execute(delete(IdempotencyKey).where(expired)))
    return int(result.rowcount or 0)
