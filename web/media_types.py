"""Which media type a GraphQL answer is sent as, from the request's Accept header (RFC 9110 section 12.5.1)."""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The header's media ranges with their weights, in the order given; malformed ones are skipped."""
    ranges = []
    for item in accept.split(","):
        name, *parameters = (part.strip() for part in item.split(";"))
        if "/" not in name:
            continue
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        ranges.append((name.lower(), weight))
    return ranges


def _matches(media_range: str, media_type: str) -> bool:
    kind, _, subtype = media_range.partition("/")
    return media_range == media_type or media_range == "*/*" or (subtype == "*" and media_type.startswith(f"{kind}/"))


def _weight(ranges: list[tuple[str, float]], media_type: str) -> tuple[float, int, int]:
    """How much the client wants `media_type`: the weight of the most specific range that names it,
    then how specific that range is, then how early it was listed (earlier wins a tie)."""
    best = (0.0, -1, 0)
    for position, (media_range, weight) in enumerate(ranges):
        if _matches(media_range, media_type):
            specificity = 2 if media_range == media_type else 1 if not media_range.startswith("*") else 0
            if specificity > best[1]:
                best = (weight, specificity, -position)
    return best


def response_media_type(accept: str | None) -> str | None:
    """GRAPHQL_RESPONSE or JSON, whichever the client prefers; None when it accepts neither.

    No Accept header, or only a wildcard (`*/*`, curl's and most HTTP libraries' default), gets
    JSON, which every client reads.
    """
    if not accept or not accept.strip():
        return JSON
    ranges = _ranges(accept)
    wanted = {media_type: _weight(ranges, media_type) for media_type in (GRAPHQL_RESPONSE, JSON)}
    acceptable = [media_type for media_type, (weight, _, _) in wanted.items() if weight > 0]
    if not acceptable:
        return None
    # The heavier; at equal weight the one named rather than matched by a wildcard, then the one
    # listed first; a wildcard alone (`application/*`) gets JSON.
    return max(acceptable, key=lambda media_type: (*wanted[media_type], media_type == JSON))
