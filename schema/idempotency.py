"""The `idempotencyKey` every create mutation's input takes, and the request it makes of resolvers.idempotency."""

from __future__ import annotations

import strawberry

from resolvers.idempotency import Once, once
from schema.context import Info


@strawberry.input
class IdempotentInput:
    """Inherited by each create mutation's input: the key comes first in the printed input."""

    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Send a new key (1 to 100 printable ASCII characters, e.g. a UUID) with each request you mean once: "
            "sent again, or many times at once, within 24 hours, it creates nothing more and answers the record "
            "the first request created. The same key with a different input is CONFLICT, `extensions.reason` "
            "IDEMPOTENCY_KEY_REUSED."
        ),
    )


def once_of(info: Info, input: IdempotentInput) -> Once | None:
    """The keyed request this root mutation makes: its field name, the key, and the rest of the input."""
    payload = strawberry.asdict(input)
    payload.pop("idempotency_key", None)
    return once(info.field_name, input.idempotency_key, payload)
