"""What the policy property tests share: ids that exist nowhere, empty tables, both forms asked at once.

`tests/test_policy_property.py` (referrals, seekers) and `tests/test_ce_policy_property.py`
(Coordinated Entry) build their own worlds; each example empties every table, inserts one, asks the
SQL form about all rows in one round trip (`selected`) and the in-memory form about the loaded rows,
and reports every difference (`disagreements`).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, delete, literal_column, select, union_all

import db.models  # noqa: F401 - every table, so that each example starts from empty ones
from db.accounts import Role
from db.base import Base
from db.engine import Database
from resolvers.viewer import MembershipInfo, Viewer

# An id no row has: a viewer pointing at it must match nothing.
MISSING = 987_654

# Few examples, each a whole world on a real database: the two files stay well under a minute.
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    # No "explain" phase: it reruns a failure many times under coverage, minutes on a database.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def index_or(n: int, *extra: Any) -> st.SearchStrategy[Any]:
    """Mostly an index below n, else one of `extra` (None: no id; MISSING: an id nobody has)."""
    return st.sampled_from([*range(n), *range(n), *extra])


def pick(ids: list[int], index: int | None) -> int | None:
    """The id at `index`; None stays None and MISSING stays an id nobody has."""
    if index is None:
        return None
    return MISSING if index == MISSING else ids[index]


async def empty_tables(db: Database) -> None:
    async with db.write() as s:
        for table in reversed(Base.metadata.sorted_tables):
            await s.execute(delete(table))


def nobodies() -> list[Viewer]:
    """Viewers of every role with no id at all: None never matches a NULL column."""
    nobody = MembershipInfo(
        organization_id=None,  # type: ignore[arg-type]
        organization_name="Nowhere",
        coc_id=None,
        coc_code=None,
        role=Role.SEEKER,
        team_id=None,
        site_id=None,
    )
    return [
        Viewer(user_id=None, email="", name="", role=role, seeker_id=None, acting=acting)
        for role in Role
        for acting in (None, nobody)
    ]


async def selected(db: Database, model: Any, questions: dict[Any, Any]) -> dict[Any, set[int]]:
    """The ids of `model` each SQL condition selects, as WHERE clauses, in one round trip."""
    return await selected_of(db, {key: (model, where) for key, where in questions.items()})


async def selected_of(db: Database, questions: dict[Any, tuple[Any, Any]]) -> dict[Any, set[int]]:
    """The ids each (model, WHERE clause) selects, of several models at once, in one round trip."""
    keys = list(questions)
    parts = [
        select(literal_column(str(i), Integer).label("q"), questions[key][0].id.label("row_id")).where(questions[key][1])
        for i, key in enumerate(keys)
    ]
    found: dict[Any, set[int]] = {key: set() for key in keys}
    async with db.read() as s:
        for q, row_id in await s.execute(union_all(*parts)):
            found[keys[q]].add(row_id)
    return found


def disagreements(viewer: Viewer, sql: dict[Any, set[int]], memory: dict[Any, set[int]], what: str = "") -> list[str]:
    """One line for each question the two forms answer differently; `what` names the resource."""
    prefix = f"{what} " if what else ""
    return [
        f"{viewer!r}\n  {prefix}{kind} {getattr(key, 'name', key)}: SQL selects {sorted(sql[(kind, key)])}, "
        f"in memory {sorted(memory[(kind, key)])}"
        for kind, key in sql
        if sql[(kind, key)] != memory[(kind, key)]
    ]
