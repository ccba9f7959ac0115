"""The shape every resource's rules take: standings, conditions, and the tables that join them.

A *standing* is how a viewer can be related to a row (the seeker of a referral, staff of its
program...). It is written twice, as SQL for lists and as a check on a loaded row, and names the
viewer's attributes it reads so that viewers who agree on those get the same answers (`audience`).
A *condition* is a further fact the grant depends on (about the row, or about the row and the viewer,
as consent will be), also written twice. A table maps each action, or each
field, to the standings allowed it and the condition under which they are.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, false, or_, true

from db.accounts import Role
from resolvers.viewer import Viewer

Row = TypeVar("Row")
Facts = TypeVar("Facts")
Rel = TypeVar("Rel", bound=enum.Enum)
Act = TypeVar("Act", bound=enum.Enum)
Fld = TypeVar("Fld", bound=enum.Enum)


def equals(column: Any, value: int | None) -> ColumnElement[bool]:
    """SQL: `column` holds the viewer's `value`; never true for a viewer without one."""
    # `column == None` would become IS NULL and match every row without a value.
    return column == value if value is not None else false()


def same(a: int | None, b: int | None) -> bool:
    """In memory, the twin of `equals`: a missing viewer value matches nothing."""
    return b is not None and a == b


@dataclass(frozen=True)
class Condition(Generic[Row, Facts]):
    """A fact a grant depends on, with its SQL twin."""

    says: str
    holds: Callable[[Viewer, Row, Facts], bool]
    where: Callable[[Viewer], ColumnElement[bool]]


def always() -> Condition[Any, Any]:
    return Condition(says="always", holds=lambda _viewer, _row, _facts: True, where=lambda _viewer: true())


@dataclass(frozen=True)
class Standing(Generic[Row, Facts]):
    """One way a viewer of `roles` can be related to a row."""

    says: str
    roles: frozenset[Role]
    # The viewer attributes both forms read; they make up the viewer's audience (see `audience`).
    reads: tuple[str, ...]
    where: Callable[[Viewer], ColumnElement[bool]]
    holds: Callable[[Viewer, Row, Facts], bool]


Grants = Mapping[Rel, Condition[Row, Facts]]


@dataclass(frozen=True)
class Rules(Generic[Row, Facts, Rel, Act, Fld]):
    """The whole policy of one kind of resource."""

    resource: str
    standings: Mapping[Rel, Standing[Row, Facts]]
    actions: Mapping[Act, Grants[Rel, Row, Facts]]
    fields: Mapping[Fld, Grants[Rel, Row, Facts]]

    def relations(self, viewer: Viewer, row: Row, facts: Facts) -> frozenset[Rel]:
        return frozenset(
            rel for rel, s in self.standings.items() if viewer.role in s.roles and s.holds(viewer, row, facts)
        )

    def related_where(self, viewer: Viewer, relations: Iterable[Rel]) -> ColumnElement[bool]:
        """Rows to which the viewer stands in any of `relations`."""
        clauses = [self._standing_where(viewer, rel) for rel in relations]
        return or_(*clauses) if clauses else false()

    def where(self, viewer: Viewer, action: Act) -> ColumnElement[bool]:
        """SQL: the rows the viewer may do `action` to."""
        return self.granted_where(viewer, self.actions[action])

    def field_where(self, viewer: Viewer, field: Fld) -> ColumnElement[bool]:
        """SQL: the rows whose `field` the viewer may see."""
        return self.granted_where(viewer, self.fields[field])

    def may(self, viewer: Viewer, action: Act, row: Row, facts: Facts) -> bool:
        return self.granted(viewer, self.actions[action], row, facts)

    def visible_fields(self, viewer: Viewer, row: Row, facts: Facts) -> frozenset[Fld]:
        relations = self.relations(viewer, row, facts)
        return frozenset(
            field for field, grants in self.fields.items() if _granted(grants, relations, viewer, row, facts)
        )

    def granted(self, viewer: Viewer, grants: Grants[Rel, Row, Facts], row: Row, facts: Facts) -> bool:
        """In memory: whether `grants` let the viewer at the row."""
        return _granted(grants, self.relations(viewer, row, facts), viewer, row, facts)

    def _standing_where(self, viewer: Viewer, rel: Rel) -> ColumnElement[bool]:
        standing = self.standings[rel]
        return standing.where(viewer) if viewer.role in standing.roles else false()

    def granted_where(self, viewer: Viewer, grants: Grants[Rel, Row, Facts]) -> ColumnElement[bool]:
        """As SQL: the rows `grants` let the viewer at."""
        clauses = [
            and_(self._standing_where(viewer, rel), condition.where(viewer))
            for rel, condition in grants.items()
            if viewer.role in self.standings[rel].roles
        ]
        return or_(*clauses) if clauses else false()


def _granted(grants: Grants[Rel, Row, Facts], relations: frozenset[Rel], viewer: Viewer, row: Row, facts: Facts) -> bool:
    return any(rel in grants and grants[rel].holds(viewer, row, facts) for rel in relations)


def audience_attributes(role: Role, *rules: Rules[Any, Any, Any, Any, Any]) -> tuple[str, ...]:
    """Every viewer attribute that some standing open to `role` reads, in a fixed order."""
    names = {name for r in rules for s in r.standings.values() if role in s.roles for name in s.reads}
    return tuple(sorted(names))


def markdown(rules: Rules[Any, Any, Any, Any, Any]) -> str:
    """The rules as tables a reviewer can read; docs/architecture.md holds this text."""
    relations = list(rules.standings)
    lines = [f"#### {rules.resource}: who stands where", "", "| standing | roles | holds when |", "|---|---|---|"]
    for rel, standing in rules.standings.items():
        roles = ", ".join(sorted(r.name for r in standing.roles))
        lines.append(f"| {rel.name} | {roles} | {standing.says} |")
    for title, table in (("actions", rules.actions), ("fields", rules.fields)):
        lines += ["", f"#### {rules.resource}: {title}", ""]
        lines.append("| " + " | ".join([title[:-1], *(r.name for r in relations)]) + " |")
        lines.append("|---" * (len(relations) + 1) + "|")
        for key, grants in table.items():
            cells = [_cell(grants.get(rel)) for rel in relations]
            lines.append("| " + " | ".join([key.name, *cells]) + " |")
    return "\n".join(lines) + "\n"


def _cell(condition: Condition[Any, Any] | None) -> str:
    if condition is None:
        return ""
    return "yes" if condition.says == "always" else f"if {condition.says}"
