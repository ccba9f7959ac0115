"""The audit log of personal data: reads, writes and pushes recorded, append-only, and the trail read back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from db.accounts import Role
from db.audit import AuditAction, AuditEntry, AuditSubject
from db.base import utcnow
from db.engine import Database
from db.seekers import ContactPreference
from db.settings import Settings
from resolvers.referrals import create_referral_in
from resolvers.runtime import Runtime
from resolvers.viewer import load_viewer
from schema import schema
from schema.context import Context
from schema.ids import parse_global_id
from tests.documents import ADD_COMMENT, CHANGES, CREATE_REFERRAL, INBOUND, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network, add_member, pantry_referral
from web.cli import main as cli

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
SAM = "seeker@test.example"
ADMIN = "admin@food.example"

TRAIL = """
query Trail($seekerId: ID, $organizationId: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  auditTrail(seekerId: $seekerId, organizationId: $organizationId, from: $from, to: $to, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id at action scopes operation organizationName organizationId actingRole actorName actorEmail seekerId
      subjectType subjectId
    } }
  }
}
"""


async def _rows(db: Database, **where: object) -> list[AuditEntry]:
    async with db.read() as s:
        stmt = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        return list(await s.scalars(stmt))


def _pk(global_id: str) -> int:
    return parse_global_id(global_id)[1]


async def _refer_sam(api: Api, network: Network) -> dict[str, object]:
    created: dict[str, object] = (
        await api.gql(
            CREATE_REFERRAL,
            {"input": {"programId": network["pantry"], "seekerId": network["sam"], "consent": True,
                       "comment": "Sam asked for help", "screenerAnswers": [{"key": "household_size", "value": "2"}]}},
            as_=NAVIGATOR,
        )
    )["createReferral"]
    return created


async def test_a_page_read_is_recorded_with_who_membership_seeker_scopes_and_operation(
    api: Api, network: Network, db: Database
) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    referral_id, seeker_id = _pk(created["id"]), _pk(created["seeker"]["id"])
    await api.gql(INBOUND, {"first": 10}, as_=INTAKE)

    reads = await _rows(db, action=AuditAction.READ)
    assert len(reads) == 1
    read = reads[0]
    assert (read.user_id, read.actor_email, read.acting_organization_id, read.acting_role) == (5, None, network.pks["food"], Role.PROGRAM_STAFF)
    assert (read.seeker_id, read.subject_type, read.subject_id) == (seeker_id, AuditSubject.REFERRAL, referral_id)
    # Consent given and reachable by email: the program sees contact details, answers, comments, history.
    assert read.scopes == "COMMENTS,CONTACT,HISTORY,NAME,REFERRALS,SCREENER_ANSWERS"
    assert read.operation == "query Inbound.inboundReferrals"
    assert utcnow() - read.at < timedelta(minutes=1)

    # A person who chose "don't reach out": the program reads no contact details, and the row says so.
    quiet = (
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], contactPreference="NONE")}, as_=NAVIGATOR)
    )["createReferral"]
    await api.gql("query One($id: ID!) { referral(id: $id) { id seeker { firstName email } } }", {"id": quiet["id"]}, as_=INTAKE)
    one = (await _rows(db, action=AuditAction.READ, subject_id=_pk(quiet["id"])))[-1]
    assert one.scopes == "COMMENTS,HISTORY,NAME,REFERRALS,SCREENER_ANSWERS" and one.operation == "query One.referral"


async def test_writes_are_recorded_in_their_own_transaction(api: Api, network: Network, db: Database) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    referral_id, seeker_id = _pk(created["id"]), _pk(created["seeker"]["id"])
    writes = await _rows(db, action=AuditAction.WRITE)
    assert [(w.subject_type, w.scopes) for w in writes] == [
        (AuditSubject.SEEKER, "CONTACT,NAME"),
        (AuditSubject.REFERRAL, "COMMENTS,HISTORY,REFERRALS,SCREENER_ANSWERS"),
    ]
    assert {(w.user_id, w.acting_organization_id, w.acting_role, w.seeker_id, w.operation) for w in writes} == {
        (1, network.pks["navs"], Role.NAVIGATOR, seeker_id, "mutation Create.createReferral")
    }
    await api.gql(UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "ELIGIBLE", "expectedVersion": 1}}, as_=INTAKE)
    await api.gql(ADD_COMMENT, {"input": {"referralId": created["id"], "body": "Call on Monday"}}, as_=INTAKE)
    later = (await _rows(db, action=AuditAction.WRITE))[2:]
    assert [(w.operation, w.scopes, w.subject_id, w.user_id) for w in later] == [
        ("mutation Update.updateReferralStatus", "HISTORY,REFERRALS", referral_id, 5),
        ("mutation Comment.addReferralComment", "COMMENTS", referral_id, 5),
    ]
    # A refused write writes nothing, the audit row included.
    refused = await api.errors(UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "PENDING", "expectedVersion": 1}}, as_=INTAKE)
    assert refused.codes == ["CONFLICT"]
    assert len(await _rows(db, action=AuditAction.WRITE)) == 4


async def test_a_push_is_recorded_once_per_recipient(api: Api, network: Network, db: Database) -> None:
    staff = await api.subscribe(CHANGES, as_=INTAKE)
    helper = await api.subscribe(CHANGES, as_=NAVIGATOR)
    clinic = await api.subscribe(CHANGES, as_="clinic@test.example")  # may not see it: neither pushed nor recorded
    await asyncio.sleep(0.2)
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    assert (await staff.next())["referralChanged"]["kind"] == "CREATED"
    assert (await helper.next())["referralChanged"]["kind"] == "CREATED"
    await clinic.nothing(0.3)
    pushes: list[AuditEntry] = []

    async def load() -> None:
        pushes[:] = await _rows(db, action=AuditAction.PUSH)

    for _ in range(200):
        await load()
        if len(pushes) >= 2:
            break
        await asyncio.sleep(0.02)
    assert sorted((p.user_id, p.acting_organization_id) for p in pushes) == [(1, network.pks["navs"]), (5, network.pks["food"])]
    assert {p.operation for p in pushes} == {"subscription Changes.referralChanged"}
    assert {(p.subject_type, p.subject_id) for p in pushes} == {(AuditSubject.REFERRAL, _pk(created["id"]))}
    assert all("NAME" in p.scopes.split(",") for p in pushes)
    for sub in (staff, helper, clinic):
        await sub.close()


@contextmanager
def audit_inserts(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def test_a_page_of_referrals_costs_one_audit_insert_however_long(settings: Settings, network: Network) -> None:
    runtime = Runtime.create(settings)
    async with runtime.db.write() as session:
        navigator = await load_viewer(session, 1)
        assert navigator is not None
        for n in range(60):
            await create_referral_in(session, navigator, pantry_referral(network, n, contact_preference=ContactPreference.EMAIL))
    async with runtime.db.read() as session:
        intake = await load_viewer(session, 5)
    assert intake is not None
    costs = {}
    for first in (5, 50):
        with audit_inserts(runtime.db) as inserts:
            result = await schema.execute(
                INBOUND, {"first": first}, context_value=Context(runtime=runtime, request=None, viewer=intake)  # type: ignore[arg-type]
            )
        assert result.errors is None and result.data is not None
        costs[first] = len(inserts)
    rows = await _rows(runtime.db, action=AuditAction.READ)
    await runtime.db.dispose()
    assert costs == {5: 1, 50: 1}
    assert len(rows) == 55


async def test_the_database_refuses_to_change_or_remove_audit_rows(db: Database) -> None:
    async with db.write() as s:
        s.add(AuditEntry(seeker_id=1, scopes="NAME", action=AuditAction.READ, operation="test"))
    for statement in ("UPDATE audit_log SET scopes = 'CONTACT'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text(statement))
    if not db.is_sqlite:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_log"))
    rows = await _rows(db)
    assert [(r.scopes, r.operation) for r in rows] == [("NAME", "test")]


async def test_who_looked_at_my_record(api: Api, network: Network, db: Database) -> None:
    await _refer_sam(api, network)
    await api.gql(INBOUND, {"first": 10}, as_=INTAKE)
    mine = [e["node"] for e in (await api.gql(TRAIL, as_=SAM))["auditTrail"]["edges"]]
    assert mine and all(e["seekerId"] == network["sam"] for e in mine)
    looked = [e for e in mine if e["action"] == "READ"]
    assert len(looked) == 1
    assert looked[0]["organizationName"] == "Harbor Food Bank" and looked[0]["actingRole"] == "PROGRAM_STAFF"
    assert looked[0]["operation"] == "query Inbound.inboundReferrals"
    assert "NAME" in looked[0]["scopes"] and looked[0]["subjectType"] == "REFERRAL"
    # Not the staff member's own name or address: those are theirs, not the seeker's.
    assert all(e["actorName"] is None and e["actorEmail"] is None for e in mine)
    assert {e["organizationName"] for e in mine} == {"Harbor Food Bank", "Eastside Navigators"}
    # Newest first; the trail pages on.
    first = (await api.gql(TRAIL, {"first": 1}, as_=SAM))["auditTrail"]
    assert first["pageInfo"]["hasNextPage"] and first["edges"][0]["node"]["id"] == mine[0]["id"]
    rest = (await api.gql(TRAIL, {"first": 50, "after": first["pageInfo"]["endCursor"]}, as_=SAM))["auditTrail"]
    assert [e["node"]["id"] for e in rest["edges"]] == [e["id"] for e in mine[1:]]

    other = await api.errors(TRAIL, {"seekerId": "U2Vla2VyOjk5"}, as_=SAM)  # Seeker:99
    assert other.codes == ["FORBIDDEN"]


async def test_an_admin_reads_what_their_organizations_members_did_and_nobody_else_may(
    api: Api, network: Network, db: Database
) -> None:
    await add_member(db, ADMIN, organization_id=network.pks["food"], role=Role.ADMIN, name="Ada Admin")
    await _refer_sam(api, network)
    await api.gql(INBOUND, {"first": 10}, as_=INTAKE)
    trail = [e["node"] for e in (await api.gql(TRAIL, as_=ADMIN))["auditTrail"]["edges"]]
    # Only the food bank's: the intake worker's read, not the navigator's referral (another organization).
    assert [(e["action"], e["actorName"], e["actorEmail"], e["organizationName"]) for e in trail] == [
        ("READ", "Ines Intake", INTAKE, "Harbor Food Bank")
    ]
    assert trail[0]["seekerId"] == network["sam"]
    narrowed = await api.gql(TRAIL, {"seekerId": network["sam"], "organizationId": network["food"]}, as_=ADMIN)
    assert len(narrowed["auditTrail"]["edges"]) == 1
    assert (await api.gql(TRAIL, {"from": "2000-01-01T00:00:00Z", "to": "2000-12-31T00:00:00Z"}, as_=ADMIN))["auditTrail"]["edges"] == []

    assert (await api.errors(TRAIL, {"organizationId": network["navs"]}, as_=ADMIN)).codes == ["FORBIDDEN"]
    for someone in (NAVIGATOR, INTAKE):
        assert (await api.errors(TRAIL, as_=someone)).codes == ["FORBIDDEN"]
    assert (await api.errors(TRAIL)).codes == ["UNAUTHENTICATED"]
    bad: list[dict[str, object]] = [
        {"first": 1000},
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "2026-01-01T00:00:00"},
        {"after": "not-a-cursor"},
        {"seekerId": network["food"]},
    ]
    for variables in bad:
        assert (await api.errors(TRAIL, variables, as_=ADMIN)).codes == ["BAD_USER_INPUT"], variables
    # Reading the trail is not itself recorded.
    assert len(await _rows(db, action=AuditAction.READ)) == 1


async def test_purge_list_prints_entries_past_retention_and_deletes_none(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = utcnow()
    async with db.write() as s:
        for years, seeker in ((8, 11), (7.5, 12), (3, 13)):
            at = now - timedelta(days=int(365.25 * years))
            s.add(AuditEntry(at=at, seeker_id=seeker, scopes="NAME", action=AuditAction.READ, operation="cli"))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("REFERLOOP_ENV", "test")
    await asyncio.to_thread(cli, ["audit", "purge-list"])
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert lines[0].startswith("id,at,user_id")
    assert [line.split(",")[6] for line in lines[1:]] == ["11", "12"]
    assert "2 entries older than 7 years" in out.err and "none was deleted" in out.err

    monkeypatch.setenv("AUDIT_RETENTION_YEARS", "2")
    await asyncio.to_thread(cli, ["audit", "purge-list"])
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    await asyncio.to_thread(cli, ["audit", "purge-list", "--older-than", "10"])
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == 3
