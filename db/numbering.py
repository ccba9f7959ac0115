"""Outbox numbers in commit order, with the lock that orders them held only for the numbering itself.

Readers resume from "seq > N", so a number must never become visible before a lower one that may
still commit. On PostgreSQL an event is written with a provisional number (negative, so no reader
ever selects it) and numbered just before its transaction commits, under a transaction-level
advisory lock that is released only once the commit is visible: whoever commits a higher number
took the lock after every lower number's transaction had committed or rolled back. Everything else
the change does (its checks, its notifications, reloading what it returns) runs without the lock,
so writers wait on each other only for that last UPDATE and the commit.

SQLite needs none of this: `BEGIN IMMEDIATE` serializes writers for the whole transaction, so an
event is numbered by its INSERT.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from db.events import OutboxEvent
from db.notifications import Notification

# Any constant works; it names the lock that keeps outbox numbers in commit order on PostgreSQL.
EVENT_ORDER_LOCK = 7_270_001
_PENDING = "referloop_unnumbered_events"
# Provisional numbers of one transaction: more events than this in one change would collide.
_PER_TRANSACTION = 1_000_000
_NEXT = text("SELECT nextval(pg_get_serial_sequence('outbox_events', 'seq'))")


def numbers_at_commit(session: Session) -> bool:
    """Whether this session's events are numbered at commit (PostgreSQL) rather than at insert (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def provisional_seq(session: Session, outbox_event: OutboxEvent) -> int:
    """A number unique to this event until it is numbered: negative, so no reader ever selects it.

    Made from the transaction's id, not from the sequence, so the final numbers stay as dense as
    before (a rolled-back change still leaves a gap).
    """
    pending: list[OutboxEvent] = session.info.setdefault(_PENDING, [])
    xid = int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    pending.append(outbox_event)
    return -(xid * _PER_TRANSACTION + len(pending))


def number_events(session: Session) -> None:
    """Number this transaction's events now; the lock is then held until the commit (or rollback)."""
    pending: list[OutboxEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ORDER_LOCK})
    final: dict[int, int] = {}
    for outbox_event in pending:
        number = int(session.execute(_NEXT).scalar_one())
        final[outbox_event.seq] = number
        # The ORM updates a changed primary key in place (UPDATE ... WHERE seq = the provisional one).
        outbox_event.seq = number
    # Messages planned from an event carry its number, and their keys are made from it.
    for obj in list(session.identity_map.values()) + list(session.new):
        if isinstance(obj, Notification) and obj.event_seq in final:
            old = obj.event_seq
            obj.event_seq = final[old]
            obj.idempotency_key = f"{final[old]}{obj.idempotency_key[len(str(old)):]}"
    session.flush()


class WriteSession(Session):
    """The session of a write transaction: its outbox events are numbered as it commits."""


@event.listens_for(WriteSession, "before_commit")
def _number_before_commit(session: Session) -> None:
    number_events(session)


@event.listens_for(WriteSession, "after_rollback")
def _forget_unnumbered(session: Session) -> None:
    session.info.pop(_PENDING, None)
