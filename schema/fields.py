"""`@strawberry.field(...)`, `.mutation(...)` and `.subscription(...)` with options, typed as the decorators they are.

Strawberry types a call with options and no resolver as returning Any, so that `x: int = strawberry.field(...)`
type-checks; under mypy --strict that makes every method it decorates untyped (strawberry-graphql/strawberry#1929).
These call strawberry's own and return what it returns, a StrawberryField (which, called with the resolver, returns
itself: what the bare `@strawberry.field` is typed as). Only the static type is different.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict, Unpack

import strawberry

if TYPE_CHECKING:
    from strawberry.extensions.field_extension import FieldExtension
    from strawberry.permission import BasePermission
    from strawberry.types.field import StrawberryField


class FieldOptions(TypedDict, total=False):
    name: str | None
    description: str | None
    permission_classes: list[type[BasePermission]] | None
    deprecation_reason: str | None
    directives: Sequence[object] | None
    extensions: list[FieldExtension] | None


def field(**options: Unpack[FieldOptions]) -> StrawberryField:
    decorator: StrawberryField = strawberry.field(**options)
    return decorator


def mutation(**options: Unpack[FieldOptions]) -> StrawberryField:
    decorator: StrawberryField = strawberry.mutation(**options)
    return decorator


def subscription(**options: Unpack[FieldOptions]) -> StrawberryField:
    decorator: StrawberryField = strawberry.subscription(**options)
    return decorator
