"""Parsed and validated documents, cached by their text and bounded by size, not only by count.

Strawberry's ParserCache and ValidationCache hold up to N documents whatever their size: twelve
padded 1 MB queries kept 79 MB. Here a document longer than MAX_DOCUMENT characters is not kept,
and the cache drops the least recently used documents beyond MAX_TOTAL characters (or MAX_COUNT
documents). The dashboards send a few dozen documents of a few kilobytes each; identical documents
must stay the same object so that subscription events run once per audience (schema/sharing.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

MAX_DOCUMENT = 64 * 1024
MAX_TOTAL = 4 * 1024 * 1024
MAX_COUNT = 256


@dataclass
class _Entry:
    document: DocumentNode
    errors: list[GraphQLError] | None = None


class DocumentStore:
    def __init__(self, max_document: int = MAX_DOCUMENT, max_total: int = MAX_TOTAL, max_count: int = MAX_COUNT) -> None:
        self.max_document = max_document
        self.max_total = max_total
        self.max_count = max_count
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.total = 0

    def get(self, text: str) -> _Entry | None:
        entry = self.entries.get(text)
        if entry is not None:
            self.entries.move_to_end(text)
        return entry

    def put(self, text: str, document: DocumentNode) -> None:
        if len(text) > self.max_document or text in self.entries:
            return
        self.entries[text] = _Entry(document)
        self.total += len(text)
        while self.total > self.max_total or len(self.entries) > self.max_count:
            oldest, _ = self.entries.popitem(last=False)
            self.total -= len(oldest)


STORE = DocumentStore()


class DocumentCache(SchemaExtension):
    def __init__(self, store: DocumentStore = STORE) -> None:
        self.store = store

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        if text and (entry := self.store.get(text)) is not None:
            context.graphql_document = entry.document  # strawberry then does not parse
            yield
            return
        yield
        if text and context.graphql_document is not None:
            self.store.put(text, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self.store.entries.get(context.query) if context.query else None
        if entry is not None and entry.document is not context.graphql_document:
            entry = None
        if entry is not None and entry.errors is not None:
            context.pre_execution_errors = list(entry.errors)  # strawberry then does not validate
            yield
            return
        yield
        if entry is not None and context.pre_execution_errors is not None:
            entry.errors = list(context.pre_execution_errors)
