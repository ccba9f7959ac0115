"""Free text as people type it: trimmed, bounded, and without control characters."""

from __future__ import annotations

import unicodedata

from resolvers.errors import BadInput

# Line breaks and tabs are how people lay out a note; every other control or format character
# (NUL, BEL, ESC, the bidirectional overrides that make text read backwards) is refused.
_LAYOUT = frozenset("\n\t")


def bounded_text(value: str | None, *, limit: int, what: str, field: str, required: bool = False) -> str | None:
    """The text trimmed, or None when empty; BAD_USER_INPUT when too long, missing or with control characters."""
    cleaned = value.strip() if value is not None else ""
    if not cleaned:
        if required:
            raise BadInput(f"Please give the {what}.", field=field)
        return None
    if len(cleaned) > limit:
        raise BadInput(f"The {what} is too long ({limit} characters at most).", field=field)
    if any(ch not in _LAYOUT and unicodedata.category(ch) in ("Cc", "Cf") for ch in cleaned.replace("\r\n", "\n")):
        raise BadInput(f"The {what} holds control characters; please retype it.", field=field)
    return cleaned.replace("\r\n", "\n")
