"""The priority list pages through the CoC's rule, mixed directions and ties included, without gaps or repeats."""

from __future__ import annotations

import base64
import itertools
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from db.accounts import ContinuumOfCare
from db.coordinated_entry import CeAssessment, PriorityListEntry
from db.engine import Database
from db.seekers import ContactPreference, Seeker
from resolvers.coordinated_entry import priority_order
from schema.ids import to_global_id
from tests.support import Api, Network
from tests.test_ce_cycle import CE, COC, LIST, ce_world

SCORES = (3.0, 7.5, 7.5, 1.0)
DAYS = (10, 200, 10)
PLACED = (date.today() - timedelta(days=30), date.today() - timedelta(days=5))


async def _fill(db: Database) -> list[tuple[float, int, date, int]]:
    """24 entries with many ties on every key; their (score, days, placed, id)."""
    rows = []
    async with db.write() as s:
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        for n, (score, days, placed) in enumerate(itertools.product(SCORES, DAYS, PLACED)):
            seeker = Seeker(
                first_name=f"P{n}", last_name="Listed", contact_preference=ContactPreference.NONE,
                veteran_status=1 if n % 4 == 0 else (0 if n % 4 == 1 else 8),
            )
            s.add(seeker)
            await s.flush()
            a = CeAssessment(
                seeker_id=seeker.id, coc_id=coc.id, assessment_date=placed, location="x", assessment_type=3,
                assessment_level=2, prioritization_status=1, score=score, days_homeless=days,
            )
            s.add(a)
            await s.flush()
            entry = PriorityListEntry(
                coc_id=coc.id, seeker_id=seeker.id, assessment_id=a.id, placed_on=placed, score=score, days_homeless=days,
                household_type="FAMILY" if n % 3 == 0 else "INDIVIDUAL", eligibility="veteran" if n % 2 else "",
            )
            s.add(entry)
            await s.flush()
            rows.append((score, days, placed, entry.id))
    return rows


async def _walk(api: Api, first: int, **filters: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await api.gql(LIST, {"coc": COC, "first": first, "after": after, **filters}, as_=CE))["priorityList"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_pages_follow_the_default_rule_without_gaps_or_repeats(api: Api, network: Network, db: Database) -> None:
    await ce_world(db, network)
    rows = await _fill(db)
    everything = await _walk(api, 100)
    assert len(everything) == len(rows)
    expected = sorted(rows, key=lambda r: (-r[0], -r[1], r[2], r[3]))
    assert everything == [to_global_id("PriorityListEntry", r[3]) for r in expected]
    for size in (1, 4, 5, 7):
        assert await _walk(api, size) == everything, size
    # Filters page the same way, over fewer rows.
    families = await _walk(api, 2, household="FAMILY")
    assert families == [i for i in everything if i in set(families)] and len(families) == 8
    veterans = await _walk(api, 3, eligibility="veteran")
    assert len(veterans) == 12 and veterans == [i for i in everything if i in set(veterans)]
    # Veteran status is the client's own 1.8 answer: only "yes" counts, "doesn't know" (8) does not.
    by_id: dict[str, int] = {str(to_global_id("PriorityListEntry", r[3])): n for n, r in enumerate(rows)}
    served = await _walk(api, 5, veteran=True)
    assert sorted(by_id[i] for i in served) == [n for n in range(24) if n % 4 == 0]
    assert served == [i for i in everything if i in set(served)]
    others = await _walk(api, 5, veteran=False)
    assert set(others) == set(everything) - set(served)
    high = await _walk(api, 4, minScore=7.5, veteran=True)
    assert high and all(rows[by_id[i]][0] >= 7.5 and by_id[i] % 4 == 0 for i in high)
    assert len(high) == sum(1 for n, r in enumerate(rows) if r[0] >= 7.5 and n % 4 == 0)


async def test_a_cocs_own_rule_orders_and_pages_its_list(api: Api, network: Network, db: Database) -> None:
    await ce_world(db, network)
    rows = await _fill(db)
    async with db.write() as s:
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        coc.priority_rule = ["placed_on", "days_homeless"]
    expected = sorted(rows, key=lambda r: (r[2], -r[1], -r[0], r[3]))
    want = [to_global_id("PriorityListEntry", r[3]) for r in expected]
    for size in (1, 3, 24, 25):
        assert await _walk(api, size) == want, size


async def test_a_bad_cursor_or_page_size_is_bad_input(api: Api, network: Network, db: Database) -> None:
    await ce_world(db, network)
    def cursor(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode()

    wrong_keys = [
        cursor('["x",1,"2026-01-01",1]'),  # a score must be a number
        cursor('[1.5,1,"not a date",1]'),
        cursor('[NaN,1,"2026-01-01",1]'),
        cursor('[true,1,"2026-01-01",1]'),
        cursor('[1.5,1,"2026-01-01"]'),  # one key short
        cursor('[1.5,1.5,"2026-01-01",1]'),  # days homeless are whole
    ]
    cases: list[dict[str, Any]] = [{"after": "bm90IG91cnM="}, {"after": "x" * 3000}, {"first": 101}, {"first": -1}]
    for variables in [*cases, *({"after": c} for c in wrong_keys)]:
        errors = await api.errors(LIST, {"coc": COC, **variables}, as_=CE)
        assert errors.codes == ["BAD_USER_INPUT"], variables


async def test_a_cursor_of_ours_continues_where_the_page_ended(api: Api, network: Network, db: Database) -> None:
    await ce_world(db, network)
    await _fill(db)
    page = (await api.gql(LIST, {"coc": COC, "first": 2}, as_=CE))["priorityList"]
    decoded = base64.urlsafe_b64decode(page["pageInfo"]["endCursor"]).decode()
    assert decoded.startswith("[7.5,") and decoded.count(",") == 3, "score, days homeless, placed on, id"


def test_the_rule_always_ends_in_the_id_and_skips_unknown_keys() -> None:
    columns, directions = priority_order(["days_homeless", "nonsense"])
    assert [c.key for c in columns] == ["days_homeless", "score", "placed_on", "id"]
    assert directions == [True, True, False, False]
    columns, _ = priority_order(None)
    assert [c.key for c in columns] == ["score", "days_homeless", "placed_on", "id"]
