"""How many fields a document selects once its fragments are expanded, checked before validation.

The token limit bounds the text, not what it stands for: fifteen fragments each spreading the next
three times are a few hundred tokens and fourteen million fields, which graphql-core's validation
rules and the cost count then walk one by one (92 s of one core for one request). And the same field
repeated in one selection is compared with each of its copies (a thousand `__typename`s took
200 ms to validate). Both are counted here without expanding anything: each fragment is counted
once and its count reused wherever it is spread.

The dashboards' largest document selects 90 fields; an honest document repeats a field a few times
at most (a fragment and the selection around it both asking for `id`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

MAX_FIELDS = 1000
MAX_REPEATS = 20


@dataclass
class _Count:
    """What one selection set selects: fields in all (nested ones too), and how often each response name."""

    fields: int = 0
    names: Counter[str] = field(default_factory=Counter)
    most_repeated: int = 0


class _Counter:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.counted: dict[str, _Count] = {}
        self.counting: set[str] = set()

    def fragment(self, name: str) -> _Count:
        known = self.counted.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.counting:
            # Validation refuses an unknown fragment and a cycle (FragmentDepthLimiter, before this).
            return _Count()
        self.counting.add(name)
        count = self.selection_set(definition.selection_set)
        self.counting.discard(name)
        self.counted[name] = count
        return count

    def selection_set(self, selection_set: SelectionSetNode) -> _Count:
        count = _Count()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count.fields += 1
                count.names[(selection.alias or selection.name).value] += 1
                if selection.selection_set is not None:
                    inner = self.selection_set(selection.selection_set)
                    count.fields += inner.fields
                    count.most_repeated = max(count.most_repeated, inner.most_repeated)
                continue
            # A fragment's fields are selected in this selection set itself: their names add up here.
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:
                continue
            count.fields += inner.fields
            count.names.update(inner.names)
            count.most_repeated = max(count.most_repeated, inner.most_repeated)
        count.most_repeated = max(count.most_repeated, max(count.names.values(), default=0))
        return count


def selection_counts(document: DocumentNode) -> tuple[int, int]:
    """The most fields any one definition selects, fragments expanded, and the most times one
    response name is selected in one selection set."""
    counter = _Counter(document)
    counts = [
        counter.selection_set(d.selection_set)
        for d in document.definitions
        if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode))
    ]
    return max((c.fields for c in counts), default=0), max((c.most_repeated for c in counts), default=0)


class SelectionLimiter(SchemaExtension):
    """Refuses, before validation, a document over MAX_FIELDS fields or MAX_REPEATS of one field."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            fields, repeats = selection_counts(document)
            if fields > MAX_FIELDS:
                raise GraphQLError(
                    f"This document selects {fields:,} fields once its fragments are expanded; at most {MAX_FIELDS:,} here.",
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
            if repeats > MAX_REPEATS:
                raise GraphQLError(
                    f"This document selects the same field {repeats:,} times in one place; at most {MAX_REPEATS} here.",
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
        yield
