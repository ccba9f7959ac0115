"""Free-text search as people type it: every word must appear in one of the searched columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_

from resolvers.errors import BadInput

# Each word is one condition over every searched column, so the words bound the SQL's size: SQLite
# refuses an expression deeper than 1000 and more than 32766 parameters. Nobody types more than a
# few words into a search box.
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 10
TOO_LONG = f"Search for at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_LENGTH} characters."
ESCAPE = "\\"


def _literal(word: str) -> str:
    """`word` for LIKE, with its wildcards (and the escape character itself) matching only themselves."""
    return word.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def every_word_matches(search: str | None, *columns: Any) -> list[ColumnElement[bool]]:
    """One condition per word, case-insensitive, each satisfied by any of `columns`."""
    text = (search or "").strip()
    words = text.split()
    if len(text) > MAX_SEARCH_LENGTH or len(words) > MAX_SEARCH_WORDS:
        raise BadInput(TOO_LONG, field="search")
    if "\x00" in text or not _encodable(text):
        # PostgreSQL cannot hold a NUL in text, and no database can bind a lone surrogate.
        raise BadInput("Search for letters, numbers and punctuation only.", field="search")
    conditions = []
    for word in words:
        pattern = f"%{_literal(word.lower())}%"
        conditions.append(or_(*(func.lower(column).like(pattern, escape=ESCAPE) for column in columns)))
    return conditions


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
