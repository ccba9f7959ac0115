"""Free text as people type it: trimmed, bounded, NFC, and without control characters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from resolvers.errors import BadInput

# Line breaks and tabs are how people lay out a note; every other control character (NUL, BEL,
# ESC, C1), the bidirectional embeddings, overrides and isolates that make text read backwards or
# hide what follows, and lone surrogates (JSON can carry "\ud800"; no database can store it) are
# refused. Other format characters stay: zero-width joiners belong in emoji and in many scripts.
_LAYOUT = frozenset("\n\t")
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# How much of what someone typed an error message quotes back.
EXCERPT_LENGTH = 40


@dataclass(frozen=True)
class Bound:
    """How much text an input takes (characters, once trimmed) and whether it may span lines."""

    limit: int
    lines: bool = False
    # Said instead of the usual "too long" message.
    too_long: str | None = None
    # Ids and cursors: opaque ASCII, neither trimmed nor normalized, refused whole when not one of ours.
    opaque: bool = False
    # Passwords: checked for refused characters and length, but kept exactly as typed, since
    # sign-in compares them as sent.
    exact: bool = False


@dataclass(frozen=True)
class Many:
    """A list input of at most `limit` items, each text within `each` when it is text."""

    limit: int
    each: Bound | None = None


def excerpt(value: object, length: int = EXCERPT_LENGTH) -> str:
    """At most `length` characters of `value`, for an error message to quote; what cannot be shown becomes �."""
    text = str(value)
    shown = "".join(ch if ch.isprintable() else "\ufffd" for ch in text[:length])
    return shown + "…" if len(text) > length else shown


def refused_character(text: str, *, lines: bool) -> str | None:
    """The first character of `text` we do not keep, as U+XXXX, or None."""
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cc" and not (lines and ch in _LAYOUT)) or category == "Cs" or ch in _BIDI_CONTROLS:
            return f"U+{ord(ch):04X}"
    return None


def words_of(name: str) -> str:
    """`providerContactName` as people say it: "provider contact name"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def checked(value: str, bound: Bound, *, field: str, what: str | None = None) -> str:
    """`value` trimmed and NFC-normalized; BAD_USER_INPUT naming `field` when too long or holding a refused character."""
    what = what or words_of(field)
    if bound.opaque:
        if len(value) > bound.limit or not (value.isascii() and value.isprintable()):
            raise BadInput(bound.too_long or f"That is not a valid {what}.", field=field)
        return value
    text = value.replace("\r\n", "\n")
    bad = refused_character(text, lines=bound.lines)
    if bad is not None:
        raise BadInput(f"The {what} holds a control character ({bad}); please retype it.", field=field)
    if bound.exact:
        if len(value) > bound.limit:
            raise BadInput(bound.too_long or f"The {what} is too long ({bound.limit:,} characters at most).", field=field)
        return value
    cleaned = unicodedata.normalize("NFC", text).strip()
    if len(cleaned) > bound.limit:
        raise BadInput(bound.too_long or f"The {what} is too long ({bound.limit:,} characters at most).", field=field)
    return cleaned


def bounded_text(value: str | None, *, limit: int, what: str, field: str, required: bool = False) -> str | None:
    """The text trimmed, or None when empty; BAD_USER_INPUT when too long, missing or with control characters."""
    cleaned = checked(value, Bound(limit, lines=True), field=field, what=what) if value is not None else ""
    if not cleaned:
        if required:
            raise BadInput(f"Please give the {what}.", field=field)
        return None
    return cleaned
