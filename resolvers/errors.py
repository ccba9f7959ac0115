"""Domain errors; each carries the stable code that API clients branch on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        # graphql-core copies an original error's `extensions` onto the GraphQL error it reports.
        return {"code": self.code, **self.details}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    """Too many attempts or connections; `retry_after` (seconds) says when to try again, if known."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int | None = None, **details: Any) -> None:
        if retry_after is not None:
            details["retryAfter"] = retry_after
        super().__init__(message, **details)
        self.retry_after = retry_after
