"""Free-text search as people type it: every word must appear in one of the searched columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_


def every_word_matches(search: str | None, *columns: Any) -> list[ColumnElement[bool]]:
    """One condition per word, case-insensitive, each satisfied by any of `columns`."""
    conditions = []
    for word in (search or "").split():
        pattern = f"%{word.lower()}%"
        conditions.append(or_(*(func.lower(column).like(pattern) for column in columns)))
    return conditions
