"""Relay global ids: opaque strings naming a type and a row."""

from __future__ import annotations

import base64
import re

import strawberry

from resolvers.errors import BadInput
from resolvers.text import excerpt


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


# The longest id we hand out is a type name and a 19-digit number, well under 100 characters.
MAX_ID_LENGTH = 100
MAX_PK = 2**31 - 1  # row ids are INTEGER columns (32 bits on PostgreSQL); beyond that the database overflows
# Strictly what to_global_id writes: int() alone would also take " 1", "+1", "1_0" and "١".
_DECODED = re.compile(r"([A-Za-z][A-Za-z0-9]*):([1-9][0-9]{0,18})")


def parse_global_id(value: str, *, field: str | None = None) -> tuple[str, int]:
    where = {"field": field} if field else {}
    if len(value) > MAX_ID_LENGTH or not value.isascii():
        raise BadInput("That is not a valid id.", **where)
    try:
        padded = value + "=" * (-len(value) % 4)
        # validate=True: without it, characters outside the alphabet are silently dropped.
        decoded = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError alike
        decoded = ""
    match = _DECODED.fullmatch(decoded)
    if match is None or int(match[2]) > MAX_PK:
        raise BadInput(f"“{excerpt(value)}” is not a valid id.", **where)
    return match[1], int(match[2])


def pk_of(value: str, type_name: str, *, field: str) -> int:
    """The row id behind a global id that must name `type_name`."""
    kind, pk = parse_global_id(value, field=field)
    if kind != type_name:
        raise BadInput(f"`{field}` must be the id of a {type_name}, not of a {excerpt(kind)}.", field=field)
    return pk


@strawberry.interface(description="An object with a global id, fetchable with `node(id)`.")
class Node:
    id: strawberry.ID
