"""Turning failures into GraphQL errors with a stable `extensions.code`, and masking the unexpected."""

from __future__ import annotations

import re

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from db.engine import is_statement_timeout
from resolvers.errors import DomainError
from resolvers.text import excerpt

TIMEOUT = "TIMEOUT"
TIMED_OUT = (
    "This request took too long and was stopped; nothing it was changing was saved. "
    "Try again, or ask for less at once."
)


def _timed_out(error: GraphQLError) -> bool:
    """A statement stopped by the statement timeout (db/engine.py), however deep in what the resolver raised."""
    cause: BaseException | None = error.original_error
    while cause is not None:
        if is_statement_timeout(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False

# graphql-core's wording when a value does not fit its type, in a literal or in a variable.
_BAD_VALUE = re.compile(
    r"got invalid value|has invalid value|does not exist in '|Expected value of type|Expected type|cannot represent"
)


# A value graphql-core or a scalar quotes back in its message ('…' or "…"), when longer than an excerpt;
# not starting or ending in a space, so the text between two quoted values is not taken for one.
_QUOTED = re.compile(r"'([^'\"\s][^'\"]{39,}[^'\"\s])'|\"([^'\"\s][^'\"]{39,}[^'\"\s])\"")
# Past this, a message quoting input is cut: ours quote through `excerpt`, graphql-core's may quote anything.
MAX_MESSAGE = 500


def _shortened(message: str) -> str:
    """The message with any long quoted value cut to an excerpt, and what cannot be encoded replaced."""
    short = _QUOTED.sub(lambda m: "'" + excerpt(m[1]) + "'" if m[1] is not None else '"' + excerpt(m[2]) + '"', message)
    if len(short) > MAX_MESSAGE:
        short = short[:MAX_MESSAGE] + "…"
    # A lone surrogate (JSON may carry one in a variable) cannot be written out as UTF-8.
    return short.encode("utf-8", "replace").decode()


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GraphQLError))


def is_client_error(error: GraphQLError) -> bool:
    """The caller's mistake (bad input, no access, stale version), not a fault of ours."""
    return _is_expected(error)


def _with_code(error: GraphQLError) -> GraphQLError:
    if not isinstance(error.original_error, DomainError):
        error.message = _shortened(error.message)
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        # Also the token limit's refusal ("Document contains more than N tokens"), raised by the parser.
        code = "GRAPHQL_PARSE_FAILED"
    elif _is_expected(error) and _BAD_VALUE.search(error.message):
        code = "BAD_USER_INPUT"
    elif _is_expected(error):
        code = "GRAPHQL_VALIDATION_FAILED"
    else:
        code = "INTERNAL_SERVER_ERROR"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class ErrorCodes(MaskErrors):
    """MaskErrors that also gives every error a code, so clients can always branch on one."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not _is_expected(e), error_message="Something went wrong on our side.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if _timed_out(error):
            # Still masked (no SQL in the answer), but coded: the client may retry or ask for less.
            masked.message = TIMED_OUT
            masked.extensions = {"code": TIMEOUT}
        else:
            masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(e) for e in super()._process_errors(errors)]

    def finish(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        """Masked and coded, for the results strawberry returns without running `on_operation`'s end
        (a document that does not parse, an error raised before execution)."""
        return self._process_errors(errors)
