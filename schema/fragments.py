"""A bound on how deep fragments nest, checked before validation (whose rules recurse through them)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, Node, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

# The dashboards nest at most three fragments deep; a chain of a few hundred made graphql-core's
# validation exceed Python's recursion limit (an unmasked "maximum recursion depth exceeded").
MAX_FRAGMENT_DEPTH = 20


def _spreads(node: Node) -> Iterator[str]:
    """The names of the fragments spread anywhere under `node`, without recursion."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FragmentSpreadNode):
            yield current.name.value
        selection_set = getattr(current, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def fragment_depth(document: DocumentNode) -> int:
    """How many fragments deep the document's operations nest (a cycle counts as deeper than any bound)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    spreads = {name: set(_spreads(f)) for name, f in fragments.items()}
    depth: dict[str, int] = {}
    # Longest chain from each fragment, computed iteratively (post-order), a cycle made infinite.
    for start in fragments:
        if start in depth:
            continue
        stack: list[tuple[str, bool]] = [(start, False)]
        on_path: set[str] = set()
        while stack:
            name, done = stack.pop()
            if done:
                on_path.discard(name)
                depth[name] = 1 + max((depth.get(s, 0) for s in spreads[name] if s in fragments), default=0)
                continue
            if name in depth:
                continue
            if name in on_path:
                return 10**9
            on_path.add(name)
            stack.append((name, True))
            for child in spreads[name]:
                if child in fragments and child not in depth:
                    if child in on_path:
                        return 10**9
                    stack.append((child, False))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((depth.get(s, 0) for o in operations for s in _spreads(o)), default=0)


class FragmentDepthLimiter(SchemaExtension):
    """Refuses a document whose fragments nest deeper than MAX_FRAGMENT_DEPTH, before validating it."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None and fragment_depth(document) > MAX_FRAGMENT_DEPTH:
            # Raised, not set as pre_execution_errors: a document cache may have set those already.
            raise GraphQLError(
                f"Fragments nest more than {MAX_FRAGMENT_DEPTH} deep (or in a cycle).",
                extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
            )
        yield
