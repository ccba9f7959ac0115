"""Relay global ids: opaque strings naming a type and a row."""

from __future__ import annotations

import base64
import binascii

import strawberry

from resolvers.errors import BadInput


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def parse_global_id(value: str) -> tuple[str, int]:
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadInput(f"“{value}” is not a valid id.") from None


def pk_of(value: str, type_name: str, *, field: str) -> int:
    """The row id behind a global id that must name `type_name`."""
    kind, pk = parse_global_id(value)
    if kind != type_name:
        raise BadInput(f"`{field}` must be the id of a {type_name}, not of a {kind}.", field=field)
    return pk


@strawberry.interface(description="An object with a global id, fetchable with `node(id)`.")
class Node:
    id: strawberry.ID
