"""Shared cases end to end: role x organization x consent x scope x field, by query and by push.

A fixed population is built once per run (so that sign-ins are reused across examples): three
organizations (the case's lead, a partner, an outsider), a worker of every role in each, one worker
who belongs to the lead and the partner and acts for the partner, the household's head and one more
member with accounts of their own, and a stranger with a case of their own (whose releases give
everything to everyone: none of it may reach the first case).

Hypothesis then draws, for each example, who of the workers is on the case (for which organization,
in which part, or taken off it), the case's stage, the data sharing agreements (parties, scopes;
in force, ending today, ended, not yet started) and the releases of information (the head's or
another member's; to an organization or to an agreement; which scopes; active, starting or ending
today, expired, pending, revoked). The case file holds a record of every kind under every scope
from each organization. Every example empties the case and consent tables and inserts its world
directly; the server, its database and the tokens stay.

For every viewer the test asks the running server, over HTTP, for `case(id)` and `cases`, and
compares the outcome, the household, its contact details, the stage, `withheld`, `viewerCan`, the
workers and every record (by id) with the answer of the oracle below, written from the rules in
docs/architecture.md ("Cases and consent"), not from `resolvers.policy`. It then subscribes every
viewer to `caseChanged` over graphql-transport-ws, has a worker of another organization add to the
file, has the head revoke a release and adds again, and compares every pushed payload the same way
(a revocation during an open subscription must stop the very next event). Last, it reads
`audit_log` back: a READ row per household member for every read that showed anything, with exactly
the scopes shown, and a PUSH row per household member for every payload.

Mismatches are collected and reported at the end of the example as one table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from db.accounts import Membership, Organization, Role, User
from db.audit import AuditAction, AuditEntry, AuditSubject
from db.base import utcnow
from db.cases import Case, CaseMember, CaseRecord, CaseRole, CaseSeeker, CaseStage, ClosureReason, RecordKind
from db.consent import (
    AgreementParty,
    AgreementScope,
    CaptureMethod,
    Consent,
    ConsentScope,
    DataSharingAgreement,
    GrantedBy,
    Scope,
)
from db.engine import Database
from db.events import OutboxEvent
from db.seekers import ContactPreference, Seeker
from schema.ids import to_global_id
from tests.support import PASSWORD, PASSWORD_HASH, Api, GraphQLErrors, Network, Subscription

# ---------------------------------------------------------------------------------------------
# The population, as the test knows it.
# ---------------------------------------------------------------------------------------------

LEAD, PARTNER, OUTSIDE = "lead", "partner", "outside"
ORGS = (LEAD, PARTNER, OUTSIDE)
ORG_NAMES = {LEAD: "Matrix Lead Services", PARTNER: "Matrix Partner Housing", OUTSIDE: "Matrix Outside Clinic"}
WORKER_ROLES = (Role.NAVIGATOR, Role.PROGRAM_STAFF, Role.CE_MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Who:
    """A viewer: whom they sign in as and the organization they act for now."""

    key: str
    name: str
    role: Role
    org: str | None = None
    person: str | None = None  # the seeker whose own account this is

    @property
    def email(self) -> str:
        return f"{self.key}@cases.example"


WORKERS = [Who(f"{o}-{r.name.lower()}", f"{o.title()} {r.name.title()}", r, o) for o in ORGS for r in WORKER_ROLES]
# A navigator of the lead and a program staff member of the partner, acting for the partner now.
SWITCHER = Who("switcher", "Sasha Switcher", Role.PROGRAM_STAFF, PARTNER)
HEAD, MEMBER, STRANGER = "head", "member", "stranger"
SEEKERS = [Who(p, f"{p.title()} Seeker", Role.SEEKER, person=p) for p in (HEAD, MEMBER, STRANGER)]
VIEWERS = [*WORKERS, SWITCHER, *SEEKERS]
BY_KEY = {v.key: v for v in VIEWERS}
# Person -> (first name, last name, email, phone).
PEOPLE = {
    HEAD: ("Hana", "Head", "hana@people.example", "+12025550171"),
    MEMBER: ("Milo", "Member", "milo@people.example", "+12025550172"),
    STRANGER: ("Stella", "Stranger", "stella@people.example", "+12025550173"),
}
HOUSEHOLD = (HEAD, MEMBER)

# One record of each kind under each scope, from each organization.
KINDS: tuple[tuple[RecordKind, Scope], ...] = (
    (RecordKind.GOAL, Scope.CASE_NOTES),
    (RecordKind.CONTACT, Scope.CASE_NOTES),
    (RecordKind.NOTE, Scope.CASE_NOTES),
    (RecordKind.NOTE, Scope.CHILD_WELFARE),
    (RecordKind.CONFERENCE, Scope.CASE_NOTES),
    (RecordKind.ASSISTANCE, Scope.FINANCIAL_ASSISTANCE),
    (RecordKind.LINK, Scope.REFERRALS),
)
# What the household sees of its own file, whoever wrote it: not the workers' notes nor links.
HOUSEHOLDS_OWN = frozenset({RecordKind.GOAL, RecordKind.CONTACT, RecordKind.CONFERENCE, RecordKind.ASSISTANCE})


@dataclass
class People:
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # viewer key -> user id
    seekers: dict[str, int] = field(default_factory=dict)


@pytest.fixture
async def people(db: Database, network: Network) -> People:
    password_hash = PASSWORD_HASH
    found = People()
    async with db.write() as s:
        orgs = {o: Organization(name=ORG_NAMES[o]) for o in ORGS}
        s.add_all(orgs.values())
        await s.flush()
        found.orgs = {o: org.id for o, org in orgs.items()}
        users = {v.key: User(name=v.name, email=v.email, password_hash=password_hash) for v in VIEWERS}
        s.add_all(users.values())
        await s.flush()
        found.users = {k: u.id for k, u in users.items()}
        for v in WORKERS:
            assert v.org is not None
            s.add(Membership(user_id=users[v.key].id, organization_id=found.orgs[v.org], role=v.role))
        s.add(Membership(user_id=users[SWITCHER.key].id, organization_id=found.orgs[LEAD], role=Role.NAVIGATOR))
        await s.flush()
        s.add(Membership(user_id=users[SWITCHER.key].id, organization_id=found.orgs[PARTNER], role=Role.PROGRAM_STAFF))
        users[SWITCHER.key].acting_organization_id = found.orgs[PARTNER]
        seekers = {}
        for p, (first, last, email, phone) in PEOPLE.items():
            seekers[p] = Seeker(
                user_id=users[p].id, first_name=first, last_name=last, email=email, phone=phone,
                contact_preference=ContactPreference.EMAIL, created_by_user_id=users["lead-navigator"].id,
            )  # fmt: skip
        s.add_all(seekers.values())
        await s.flush()
        found.seekers = {p: x.id for p, x in seekers.items()}
    return found


# ---------------------------------------------------------------------------------------------
# A drawn world.
# ---------------------------------------------------------------------------------------------

# (what it is, starts, ends) in days from today; None: no end.
AGREEMENT_WINDOWS: tuple[tuple[str, int, int | None], ...] = (
    ("in force", -200, None),
    ("in force, started today", 0, None),
    ("in force, ends today", -200, 0),
    ("in force, ends later", -30, 400),
    ("ended yesterday", -400, -1),
    ("ended", -900, -300),
    ("starts tomorrow", 1, None),
)
CONSENT_WINDOWS: tuple[tuple[str, int, int], ...] = (
    ("active", -30, 1065),
    ("active, started today", 0, 1095),
    ("active, ends today", -1095, 0),
    ("expired yesterday", -1096, -1),
    ("expired", -1500, -400),
    ("pending, starts tomorrow", 1, 1096),
    ("pending", 60, 800),
)


@dataclass(frozen=True)
class AgreementSpec:
    parties: frozenset[str]
    scopes: frozenset[Scope]
    window: tuple[str, int, int | None]


@dataclass(frozen=True)
class ConsentSpec:
    by: str  # HEAD, or MEMBER (not the head: their release does not speak for the household)
    to_org: str | None
    to_agreement: int | None
    scopes: frozenset[Scope]
    window: tuple[str, int, int]
    revoked: bool = False


@dataclass(frozen=True)
class MemberSpec:
    user: str
    org: str  # the organization they joined the case for
    role: CaseRole
    removed: bool = False


@dataclass(frozen=True)
class World:
    agreements: tuple[AgreementSpec, ...]
    consents: tuple[ConsentSpec, ...]
    members: tuple[MemberSpec, ...]
    stage: CaseStage
    writer: str  # a worker of another organization than the lead, on the case, who adds while everyone watches
    adds: tuple[str, str]  # what they add before and after the revocation (keys of ADDS)
    revoke: int  # which of the head's unrevoked releases is revoked while everyone watches (in force first)


ALL_SCOPES = frozenset(Scope)
scopes_st = st.one_of(st.just(ALL_SCOPES), st.frozensets(st.sampled_from(list(Scope)), min_size=1))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    agreements = tuple(
        draw(
            st.lists(
                st.builds(
                    AgreementSpec,
                    parties=st.one_of(st.just(frozenset({LEAD, PARTNER})), st.frozensets(st.sampled_from(ORGS), min_size=2)),
                    scopes=scopes_st,
                    window=st.sampled_from(AGREEMENT_WINDOWS),
                ),
                min_size=draw(st.sampled_from([0, 1, 1, 1])),
                max_size=2,
            )
        )
    )
    recipient = st.tuples(st.sampled_from(ORGS), st.none())
    if agreements:
        recipient = st.one_of(recipient, st.tuples(st.none(), st.integers(0, len(agreements) - 1)))
    consents = []
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3]))):
        to_org, to_agreement = draw(recipient)
        consents.append(
            ConsentSpec(
                by=draw(st.sampled_from([HEAD, HEAD, HEAD, MEMBER])),
                to_org=to_org,
                to_agreement=to_agreement,
                scopes=draw(scopes_st),
                # In force half the time: otherwise little would cross, and a revocation would change nothing.
                window=draw(st.sampled_from([*CONSENT_WINDOWS, *CONSENT_WINDOWS[:3] * 2])),
                revoked=draw(st.integers(0, 4)) == 0,
            )
        )
    members = [MemberSpec("lead-navigator", LEAD, CaseRole.LEAD_CASE_MANAGER)]
    for who in [*WORKERS, SWITCHER]:
        if who.key == "lead-navigator":
            continue
        joined = who.org if who is not SWITCHER else draw(st.sampled_from([LEAD, PARTNER]))
        assert joined is not None
        always = who.key == "partner-navigator"
        state = "on" if always else draw(st.sampled_from(["on", "on", "off", "removed"]))
        if state != "off":
            members.append(MemberSpec(who.key, joined, draw(st.sampled_from(CaseRole)), removed=state == "removed"))
    writers = [m.user for m in members if m.org != LEAD and not m.removed and BY_KEY[m.user].org == m.org]
    return World(
        agreements=agreements,
        consents=tuple(consents),
        members=tuple(members),
        stage=draw(st.sampled_from(CaseStage)),
        writer=draw(st.sampled_from(writers)),
        adds=(draw(st.sampled_from(sorted(ADDS))), draw(st.sampled_from(sorted(ADDS)))),
        revoke=draw(st.integers(0, 2)),
    )


def _everyone_on(*, removed: frozenset[str] = frozenset()) -> tuple[MemberSpec, ...]:
    lead = MemberSpec("lead-navigator", LEAD, CaseRole.LEAD_CASE_MANAGER)
    rest = [MemberSpec(w.key, w.org or LEAD, CaseRole.OTHER, w.key in removed) for w in WORKERS if w.key != lead.user]
    return (lead, *rest, MemberSpec(SWITCHER.key, LEAD, CaseRole.LIAISON))


# Worlds every run goes through, whatever hypothesis draws.
IN_FORCE, ENDED = AGREEMENT_WINDOWS[0], AGREEMENT_WINDOWS[4]
ACTIVE, EXPIRED, PENDING = CONSENT_WINDOWS[0], CONSENT_WINDOWS[3], CONSENT_WINDOWS[5]
# A release to the lead-partner agreement for everything: the partner sees all, then it is revoked.
SHARED = World(
    agreements=(AgreementSpec(frozenset({LEAD, PARTNER}), ALL_SCOPES, IN_FORCE),),
    consents=(ConsentSpec(HEAD, None, 0, ALL_SCOPES, ACTIVE),),
    members=_everyone_on(removed=frozenset({"outside-program_staff"})),
    stage=CaseStage.MOVED_IN,
    writer="partner-navigator",
    adds=("CHILD_WELFARE_NOTE", "NOTE"),
    revoke=0,
)
# A release to the partner itself but an agreement without contact details or child welfare; the
# outsider is party to a second agreement that has ended; another member's release speaks for no one.
NARROW = World(
    agreements=(
        AgreementSpec(frozenset(ORGS), frozenset({Scope.CASE_NOTES, Scope.FINANCIAL_ASSISTANCE}), AGREEMENT_WINDOWS[2]),
        AgreementSpec(frozenset({LEAD, OUTSIDE}), ALL_SCOPES, ENDED),
    ),
    consents=(
        ConsentSpec(HEAD, PARTNER, None, frozenset({Scope.CASE_NOTES, Scope.CONTACT, Scope.CHILD_WELFARE}), CONSENT_WINDOWS[2]),
        ConsentSpec(HEAD, None, 1, ALL_SCOPES, ACTIVE),
        ConsentSpec(MEMBER, OUTSIDE, None, ALL_SCOPES, ACTIVE),
    ),
    members=_everyone_on(),
    stage=CaseStage.STABILIZING,
    writer="outside-navigator",
    adds=("ASSISTANCE", "GOAL"),
    revoke=0,
)
# Nothing in force: expired, pending and revoked releases, an agreement that starts tomorrow.
NOTHING = World(
    agreements=(AgreementSpec(frozenset(ORGS), ALL_SCOPES, AGREEMENT_WINDOWS[6]), AgreementSpec(frozenset(ORGS), ALL_SCOPES, IN_FORCE)),
    consents=(
        ConsentSpec(HEAD, None, 1, ALL_SCOPES, EXPIRED),
        ConsentSpec(HEAD, PARTNER, None, ALL_SCOPES, PENDING),
        ConsentSpec(HEAD, None, 1, ALL_SCOPES, ACTIVE, revoked=True),
        ConsentSpec(HEAD, None, 0, ALL_SCOPES, ACTIVE),
    ),
    members=_everyone_on(),
    stage=CaseStage.CLOSED,
    writer="partner-admin",
    adds=("CONTACT", "CONFERENCE"),
    revoke=0,
)


# ---------------------------------------------------------------------------------------------
# The rules, written out from docs/architecture.md "Cases and consent" (not from resolvers.policy).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rec:
    """A record of the file as the oracle knows it."""

    gid: str
    org: str
    kind: RecordKind
    scope: Scope


def _within(start: int, end: int | None) -> bool:
    """Whether today (day 0) lies in [start, end]: both ends count."""
    return start <= 0 and (end is None or end >= 0)


@dataclass(frozen=True)
class Oracle:
    world: World
    revoked: frozenset[int] = frozenset()  # releases revoked during the example

    def agreement_in_force(self, i: int) -> bool:
        _name, start, end = self.world.agreements[i].window
        return _within(start, end)

    def release_in_force(self, j: int) -> bool:
        c = self.world.consents[j]
        return not c.revoked and j not in self.revoked and _within(c.window[1], c.window[2])

    def crosses(self, to: str | None, frm: str, scope: Scope) -> bool:
        """Whether `scope` of what `frm` wrote reaches a member acting for `to`."""
        if to is None:
            return False
        if to == frm:
            return True
        agreements = [
            i for i, a in enumerate(self.world.agreements)
            if self.agreement_in_force(i) and {to, frm} <= a.parties and scope in a.scopes
        ]  # fmt: skip
        if not agreements:
            return False
        return any(
            c.by == HEAD
            and self.release_in_force(j)
            and scope in c.scopes
            # A release to an agreement lets across what that agreement (in force, both parties, that scope) covers.
            and (c.to_org == to or (c.to_agreement is not None and c.to_agreement in agreements))
            for j, c in enumerate(self.world.consents)
        )

    def member(self, v: Who) -> bool:
        return v.role in WORKER_ROLES and any(
            m.user == v.key and m.org == v.org and not m.removed for m in self.world.members
        )

    def lead_admin(self, v: Who) -> bool:
        return v.role is Role.ADMIN and v.org == LEAD

    def household(self, v: Who) -> bool:
        return v.role is Role.SEEKER and v.person in HOUSEHOLD

    def may_read(self, v: Who) -> bool:
        return self.member(v) or self.lead_admin(v) or self.household(v)

    def sees_household(self, v: Who) -> bool:
        if self.household(v) or self.lead_admin(v):
            return True
        return self.member(v) and any(self.crosses(v.org, LEAD, s) for s in Scope)

    def sees_contact(self, v: Who) -> bool:
        if self.household(v) or self.lead_admin(v):
            return True
        return self.member(v) and self.crosses(v.org, LEAD, Scope.CONTACT)

    def sees(self, v: Who, r: Rec) -> bool:
        if self.household(v) and r.kind in HOUSEHOLDS_OWN:
            return True
        return (self.member(v) or self.lead_admin(v)) and self.crosses(v.org, r.org, r.scope)

    def withheld(self, v: Who) -> list[str]:
        hidden = set()
        if not self.sees_household(v):
            hidden |= {"HOUSEHOLD", "STAGE"}
        if not self.sees_contact(v):
            hidden.add("CONTACT")
        return sorted(hidden)

    def viewer_can(self, v: Who) -> list[str]:
        can = {"READ"}
        if self.member(v):
            can.add("ADD_RECORD")
        if (self.member(v) and v.org == LEAD) or self.lead_admin(v):
            can.add("MANAGE")
        return sorted(can)

    def shown_scopes(self, v: Who, records: list[Rec], *, with_records: bool = True) -> str:
        """What the audit must say the viewer was shown of each person of the household."""
        shown = {r.scope.name for r in records if with_records and self.sees(v, r)}
        if self.sees_household(v):
            shown.add("NAME")
        if self.sees_contact(v):
            shown.add("CONTACT")
        return ",".join(sorted(shown))


# ---------------------------------------------------------------------------------------------
# GraphQL documents.
# ---------------------------------------------------------------------------------------------

CASE_FIELDS = """
  id stage withheld viewerCan
  leadOrganization { name }
  leadContacts { person { name } role }
  workers { person { name } organization { name } role }
  household { seekerId isHead firstName lastName email phone }
  records { id kind scope organizationId }
"""
CASE = f"query MatrixCase($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"
CASES = "query MatrixCases { cases(first: 30) { edges { node { id stage withheld household { seekerId email } } } } }"
CHANGED = f"""subscription MatrixChanges($id: ID!, $afterSeq: Int) {{
  caseChanged(caseId: $id, afterSeq: $afterSeq) {{ seq kind case {{ {CASE_FIELDS} }} }}
}}"""
REVOKE = "mutation MatrixRevoke($id: ID!) { revokeConsent(consentId: $id) { id state } }"
TODAY = date.today().isoformat()
# What the writer adds while everyone watches: the mutation, its input, and the record it makes.
ADDS: dict[str, tuple[str, dict[str, Any], RecordKind, Scope]] = {
    "NOTE": (
        "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id } }",
        {"on": TODAY, "body": "Pushed note"}, RecordKind.NOTE, Scope.CASE_NOTES,
    ),
    "CHILD_WELFARE_NOTE": (
        "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id } }",
        {"on": TODAY, "body": "Pushed safety plan", "childWelfare": True}, RecordKind.NOTE, Scope.CHILD_WELFARE,
    ),
    "GOAL": (
        "mutation($input: AddCaseGoalInput!) { addCaseGoal(input: $input) { id } }",
        {"on": TODAY, "words": "A place near school"}, RecordKind.GOAL, Scope.CASE_NOTES,
    ),
    "CONTACT": (
        "mutation($input: RecordServiceContactInput!) { recordServiceContact(input: $input) { id } }",
        {"on": TODAY, "contactType": "PHONE", "minutes": 20, "intensity": "LIGHT"}, RecordKind.CONTACT, Scope.CASE_NOTES,
    ),
    "CONFERENCE": (
        "mutation($input: RecordCaseConferenceInput!) { recordCaseConference(input: $input) { id } }",
        {"on": TODAY, "attendees": ["Everyone"], "decisions": "Weekly visits"}, RecordKind.CONFERENCE, Scope.CASE_NOTES,
    ),
    "ASSISTANCE": (
        "mutation($input: RecordFinancialAssistanceInput!) { recordFinancialAssistance(input: $input) { id } }",
        {"kind": "RENT", "amount": "900.00", "paidOn": TODAY, "payee": "Elm St Apartments"}, RecordKind.ASSISTANCE,
        Scope.FINANCIAL_ASSISTANCE,
    ),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Collecting answers.
# ---------------------------------------------------------------------------------------------


@dataclass
class Matrix:
    cases: int = 0
    mismatches: list[tuple[str, str, str, str]] = field(default_factory=list)

    def check(self, viewer: str, what: str, expected: Any, got: Any) -> None:
        self.cases += 1
        if expected != got:
            self.mismatches.append((viewer, what, str(expected), str(got)))

    def report(self, world: World) -> str:
        rows = [("viewer", "check", "expected", "got"), *self.mismatches]
        widths = [min(70, max(len(row[i]) for row in rows)) for i in range(4)]
        lines = [" | ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return f"{len(self.mismatches)} of {self.cases} cases disagree with the rules in\n{world}\n" + "\n".join(lines)


@dataclass
class Tally:
    examples: int = 0
    cases: int = 0
    revocations_that_mattered: int = 0
    consent_states: set[str] = field(default_factory=set)
    agreement_states: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    """Counts across examples; at the end of the module, the matrix must have compared enough."""
    counted = Tally()
    yield counted
    print(
        f"\ncase matrix: {counted.examples} worlds x {len(VIEWERS)} viewers, {counted.cases} cases compared; "
        f"{counted.revocations_that_mattered} revocations changed a pushed page; "
        f"releases {sorted(counted.consent_states)}; agreements {sorted(counted.agreement_states)}"
    )
    if counted.examples:
        assert counted.cases >= 500, counted.cases
        assert counted.revocations_that_mattered >= 1


# ---------------------------------------------------------------------------------------------
# Building the world.
# ---------------------------------------------------------------------------------------------

RESET = (CaseRecord, CaseMember, CaseSeeker, Case, ConsentScope, Consent, AgreementScope, AgreementParty, DataSharingAgreement)


@dataclass
class Built:
    case_id: int
    case: str
    decoy: str
    records: list[Rec]
    consents: list[int]  # ids, in the world's order


async def _insert(db: Database, p: People, world: World) -> Built:
    today = date.today()
    day = timedelta(days=1)
    async with db.write() as s:
        for model in RESET:
            await s.execute(delete(model))
        agreements = []
        for i, a in enumerate(world.agreements):
            _name, start, end = a.window
            agreement = DataSharingAgreement(
                name=f"MOA {i}", purpose="Matrix", starts_on=today + start * day, ends_on=None if end is None else today + end * day
            )
            s.add(agreement)
            await s.flush()
            s.add_all(AgreementParty(agreement_id=agreement.id, organization_id=p.orgs[o]) for o in sorted(a.parties))
            s.add_all(AgreementScope(agreement_id=agreement.id, scope=sc) for sc in sorted(a.scopes, key=lambda x: x.name))
            agreements.append(agreement.id)

        async def release(seeker: str, to_org: str | None, to_agreement: int | None, scopes: frozenset[Scope],
                          start: int, end: int, revoked: bool) -> int:  # fmt: skip
            consent = Consent(
                seeker_id=p.seekers[seeker],
                to_organization_id=p.orgs[to_org] if to_org else None,
                to_agreement_id=agreements[to_agreement] if to_agreement is not None else None,
                starts_on=today + start * day,
                ends_on=today + end * day,
                granted_by=GrantedBy.SEEKER,
                captured_how=CaptureMethod.SIGNED_PAPER,
                revoked_at=utcnow() - day if revoked else None,
            )
            s.add(consent)
            await s.flush()
            s.add_all(ConsentScope(consent_id=consent.id, scope=sc) for sc in sorted(scopes, key=lambda x: x.name))
            return consent.id

        # The stranger's own case comes first: none of its releases or records may reach the household's.
        decoy = Case(lead_organization_id=p.orgs[OUTSIDE], opened_on=today - 60 * day)
        s.add(decoy)
        await s.flush()
        s.add(CaseSeeker(case_id=decoy.id, seeker_id=p.seekers[STRANGER], is_head=True))
        s.add(CaseMember(case_id=decoy.id, user_id=p.users["outside-navigator"], organization_id=p.orgs[OUTSIDE],
                         role=CaseRole.LEAD_CASE_MANAGER, added_on=today))  # fmt: skip
        for o in ORGS:
            s.add(CaseRecord(case_id=decoy.id, kind=RecordKind.NOTE, scope=Scope.CASE_NOTES, organization_id=p.orgs[o],
                             on=today, body=f"The stranger's file, by {o}", details={}))  # fmt: skip
        for o in ORGS:
            await release(STRANGER, o, None, ALL_SCOPES, -10, 300, False)
        for i in range(len(agreements)):
            await release(STRANGER, None, i, ALL_SCOPES, -10, 300, False)

        closed = world.stage is CaseStage.CLOSED
        case = Case(
            lead_organization_id=p.orgs[LEAD],
            stage=world.stage,
            opened_on=today - 30 * day,
            closed_on=today if closed else None,
            closure_reason=ClosureReason.STABLY_HOUSED if closed else None,
        )
        s.add(case)
        await s.flush()
        s.add_all(CaseSeeker(case_id=case.id, seeker_id=p.seekers[x], is_head=x == HEAD) for x in HOUSEHOLD)
        for m in world.members:
            s.add(
                CaseMember(
                    case_id=case.id, user_id=p.users[m.user], organization_id=p.orgs[m.org], role=m.role,
                    added_on=today - 10 * day, removed_on=today if m.removed else None,
                )
            )  # fmt: skip
        made = []
        for o in ORGS:
            for n, (kind, scope) in enumerate(KINDS):
                record = CaseRecord(
                    case_id=case.id, kind=kind, scope=scope, organization_id=p.orgs[o], author_user_id=p.users[f"{o}-navigator"],
                    on=today - n * day, body=f"{kind.name} {scope.name} by {o}",
                    details={"subject": "REFERRAL", "subjectId": 4000 + n, "seekerId": p.seekers[HEAD]} if kind is RecordKind.LINK else {},
                )  # fmt: skip
                s.add(record)
                made.append((record, o))
        await s.flush()
        records = [Rec(to_global_id("CaseRecord", r.id), o, r.kind, r.scope) for r, o in made]
        consents = []
        for c in world.consents:
            consents.append(await release(c.by, c.to_org, c.to_agreement, c.scopes, c.window[1], c.window[2], c.revoked))
        return Built(case.id, to_global_id("Case", case.id), to_global_id("Case", decoy.id), records, consents)


# ---------------------------------------------------------------------------------------------
# The checks.
# ---------------------------------------------------------------------------------------------


def _check_page(matrix: Matrix, oracle: Oracle, p: People, v: Who, how: str, got: dict[str, Any], records: list[Rec]) -> None:
    """One case page as `v` was given it (by query or by push), field by field and record by record."""
    world = oracle.world
    contact = oracle.sees_contact(v)
    household = [
        (to_global_id("Seeker", p.seekers[x]), x == HEAD, PEOPLE[x][0], PEOPLE[x][1], PEOPLE[x][2] if contact else None,
         PEOPLE[x][3] if contact else None)
        for x in HOUSEHOLD
    ] if oracle.sees_household(v) else []  # fmt: skip
    got_household = [(h["seekerId"], h["isHead"], h["firstName"], h["lastName"], h["email"], h["phone"]) for h in got["household"]]
    matrix.check(v.key, f"{how}: household", household, got_household)
    matrix.check(v.key, f"{how}: stage", world.stage.name if oracle.sees_household(v) else None, got["stage"])
    matrix.check(v.key, f"{how}: withheld", oracle.withheld(v), got["withheld"])
    matrix.check(v.key, f"{how}: viewerCan", oracle.viewer_can(v), got["viewerCan"])
    matrix.check(v.key, f"{how}: leadOrganization", ORG_NAMES[LEAD], got["leadOrganization"]["name"])
    active = [m for m in world.members if not m.removed]
    leads = sorted((BY_KEY[m.user].name, m.role.name) for m in active if m.org == LEAD and m.role is CaseRole.LEAD_CASE_MANAGER)
    matrix.check(v.key, f"{how}: leadContacts", leads, sorted((c["person"]["name"], c["role"]) for c in got["leadContacts"]))
    workers = sorted((BY_KEY[m.user].name, ORG_NAMES[m.org], m.role.name) for m in active)
    got_workers = sorted((w["person"]["name"], w["organization"]["name"], w["role"]) for w in got["workers"])
    matrix.check(v.key, f"{how}: workers", workers, got_workers)
    shown = {r["id"]: r for r in got["records"]}
    for r in records:
        what = f"{how}: record {r.kind.name}/{r.scope.name} by {r.org}"
        matrix.check(v.key, what, oracle.sees(v, r), r.gid in shown)
        if r.gid in shown:
            seen = shown[r.gid]
            expected = (r.kind.name, r.scope.name, to_global_id("Organization", p.orgs[r.org]))
            matrix.check(v.key, f"{what}: kind, scope, organization", expected, (seen["kind"], seen["scope"], seen["organizationId"]))
    matrix.check(v.key, f"{how}: no record from elsewhere", set(), set(shown) - {r.gid for r in records})


async def _check_reads(api: Api, matrix: Matrix, oracle: Oracle, p: People, built: Built) -> None:
    async def read(v: Who) -> tuple[dict[str, Any], dict[str, Any]]:
        return await api.raw(CASE, {"id": built.case}, as_=v.email), await api.raw(CASES, as_=v.email)

    # One after another: concurrent requests open many keep-alive connections, and one the server
    # closes while idle (between examples) can be picked up again just as it goes.
    answers = [await read(v) for v in VIEWERS]
    decoy = Oracle(replace(oracle.world, members=(MemberSpec("outside-navigator", OUTSIDE, CaseRole.LEAD_CASE_MANAGER),)))
    for v, (one, listed) in zip(VIEWERS, answers):
        codes = [e.get("extensions", {}).get("code") for e in one.get("errors") or []]
        matrix.check(v.key, "case(id)", "visible" if oracle.may_read(v) else ["NOT_FOUND"], "visible" if not codes else codes)
        if not codes:
            _check_page(matrix, oracle, p, v, "case(id)", one["data"]["case"], built.records)
        nodes = {e["node"]["id"]: e["node"] for e in listed["data"]["cases"]["edges"]}
        matrix.check(v.key, "cases: the household's listed", oracle.may_read(v), built.case in nodes)
        if built.case in nodes:
            node = nodes[built.case]
            matrix.check(v.key, "cases: withheld", oracle.withheld(v), node["withheld"])
            matrix.check(v.key, "cases: stage", oracle.world.stage.name if oracle.sees_household(v) else None, node["stage"])
            emails = [PEOPLE[x][2] if oracle.sees_contact(v) else None for x in HOUSEHOLD] if oracle.sees_household(v) else []
            matrix.check(v.key, "cases: household emails", emails, [h["email"] for h in node["household"]])
        # The stranger's case: its head is the stranger, its lead the outsider, on it only the outsider's navigator.
        stranger_reads = (v.role is Role.SEEKER and v.person == STRANGER) or decoy.member(v) or (v.role is Role.ADMIN and v.org == OUTSIDE)
        matrix.check(v.key, "cases: the stranger's listed", stranger_reads, built.decoy in nodes)
        matrix.check(v.key, "cases: nothing else listed", set(), set(nodes) - {built.case, built.decoy})


@dataclass
class Pushed:
    """What one subscriber was pushed, with the oracle of each moment, for the audit."""

    pages: list[tuple[Oracle, list[Rec]]] = field(default_factory=list)


async def _next_pages(subs: dict[str, Subscription]) -> dict[str, dict[str, Any] | str]:
    async def one(sub: Subscription) -> dict[str, Any] | str:
        try:
            page: dict[str, Any] = (await sub.next(timeout=8))["caseChanged"]
            return page
        except TimeoutError:
            return "nothing pushed"
        except GraphQLErrors as refused:
            return f"refused {refused.codes}"

    got = await asyncio.gather(*(one(s) for s in subs.values()))
    return dict(zip(subs, got))


async def _check_pushes(api: Api, db: Database, matrix: Matrix, tally: Tally, oracle: Oracle, p: People, built: Built) -> dict[str, Pushed]:
    world = oracle.world
    async with db.read() as s:
        after = int(await s.scalar(select(func.max(OutboxEvent.seq))) or 0)
    subs: dict[str, Subscription] = {}
    pushed = {v.key: Pushed() for v in VIEWERS}
    opened = await asyncio.gather(*(api.subscribe(CHANGED, {"id": built.case, "afterSeq": after}, as_=v.email) for v in VIEWERS))
    try:
        readers = {v.key: sub for v, sub in zip(VIEWERS, opened) if oracle.may_read(v)}
        refused = {v.key: sub for v, sub in zip(VIEWERS, opened) if not oracle.may_read(v)}
        for key, answer in (await _next_pages(refused)).items():
            matrix.check(key, "caseChanged: refused", "refused ['NOT_FOUND']", answer)

        records = list(built.records)
        writer = BY_KEY[world.writer]
        # Before and after the revocation, the writer adds to the file; the revocation itself is pushed too.
        revocable = sorted(
            (j for j, c in enumerate(world.consents) if c.by == HEAD and not c.revoked), key=lambda j: not oracle.release_in_force(j)
        )
        steps: list[tuple[str, str | int]] = [("add", world.adds[0])]
        if revocable:
            steps.append(("revoke", revocable[world.revoke % len(revocable)]))
        steps.append(("add", world.adds[1]))
        now = oracle
        for step, what in steps:
            if step == "add":
                assert isinstance(what, str)
                doc, payload, kind, scope = ADDS[what]
                await api.gql(doc, {"input": {"caseId": built.case, **payload}}, as_=writer.email)
                async with db.read() as s:
                    new_id = await s.scalar(select(func.max(CaseRecord.id)).where(CaseRecord.case_id == built.case_id))
                assert new_id is not None
                records.append(Rec(to_global_id("CaseRecord", new_id), str(writer.org), kind, scope))
                how = f"caseChanged after {what} by {writer.key}"
            else:
                assert isinstance(what, int)
                await api.gql(REVOKE, {"id": to_global_id("Consent", built.consents[what])}, as_=BY_KEY[HEAD].email)
                before = now
                now = replace(now, revoked=now.revoked | {what})
                if any({r.gid for r in records if before.sees(BY_KEY[k], r)} != {r.gid for r in records if now.sees(BY_KEY[k], r)}
                       or before.withheld(BY_KEY[k]) != now.withheld(BY_KEY[k]) for k in readers):  # fmt: skip
                    tally.revocations_that_mattered += 1
                how = f"caseChanged after revoking release {what}"
            for key, page in (await _next_pages(readers)).items():
                if isinstance(page, str):
                    matrix.check(key, f"{how}: pushed", "a page", page)
                    continue
                pushed[key].pages.append((now, list(records)))
                _check_page(matrix, now, p, BY_KEY[key], how, page["case"], records)
        quiet = await asyncio.gather(*(_quiet(sub) for sub in readers.values()))
        for key, extra in zip(readers, quiet):
            matrix.check(key, "caseChanged: one push per change", None, extra)
    finally:
        await asyncio.gather(*(sub.close() for sub in opened))
    return pushed


async def _quiet(sub: Subscription) -> str | None:
    try:
        await sub.nothing(within=0.3)
    except AssertionError as extra:
        return str(extra)[:120]
    return None


def _audit_rows(rows: list[AuditEntry], p: People, v: Who, operation: str) -> list[tuple[Any, ...]]:
    return sorted(
        (r.subject_id, r.seeker_id, r.scopes, r.acting_organization_id, r.acting_role)
        for r in rows
        if r.user_id == p.users[v.key] and r.operation == operation
    )


async def _check_audit(
    db: Database, matrix: Matrix, oracle: Oracle, p: People, built: Built, reads_after: int, pushes_after: int, pushed: dict[str, Pushed]
) -> None:
    """Every read that showed anything of the household has its rows, with exactly what was shown; so has every push."""
    # A fan-out's push rows are written together just after its pages are served: wait until they stop coming.
    rows: list[AuditEntry] = []
    for _ in range(60):
        async with db.read() as s:
            fresh = list(
                await s.scalars(select(AuditEntry).where(AuditEntry.id > reads_after, AuditEntry.subject_type == AuditSubject.CASE))
            )
        if rows and len(fresh) == len(rows):
            break
        rows = fresh
        await asyncio.sleep(0.1)
    reads = [r for r in rows if r.action is AuditAction.READ and r.id <= pushes_after]
    pushes = [r for r in rows if r.action is AuditAction.PUSH]
    case_id = built.case_id
    household = [p.seekers[x] for x in HOUSEHOLD]
    for v in VIEWERS:
        acting = (p.orgs[v.org] if v.org else None, v.role)

        def rows_for(subject: int, scopes: str) -> list[tuple[Any, ...]]:
            return [(subject, sid, scopes, *acting) for sid in household] if scopes else []  # noqa: B023

        read_scopes = oracle.shown_scopes(v, built.records) if oracle.may_read(v) else ""
        matrix.check(v.key, "audit: case(id) read", rows_for(case_id, read_scopes), _audit_rows(reads, p, v, "query MatrixCase.case"))
        list_scopes = oracle.shown_scopes(v, [], with_records=False) if oracle.may_read(v) else ""
        listed = [r for r in _audit_rows(reads, p, v, "query MatrixCases.cases") if r[0] == case_id]
        matrix.check(v.key, "audit: cases read", rows_for(case_id, list_scopes), listed)
        stranger = [r for r in _audit_rows(reads, p, v, "query MatrixCases.cases") if r[0] != case_id]
        matrix.check(v.key, "audit: cases read names no one else", True, all(r[1] == p.seekers[STRANGER] for r in stranger))
        expected_pushes = sorted(row for page, seen in pushed[v.key].pages for row in rows_for(case_id, page.shown_scopes(v, seen)))
        matrix.check(v.key, "audit: caseChanged pushes", expected_pushes, _audit_rows(pushes, p, v, "subscription caseChanged"))


# ---------------------------------------------------------------------------------------------
# The test.
# ---------------------------------------------------------------------------------------------

MATRIX_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    # Each example is a whole world through a real server: no shrinking (the report lists every
    # mismatch of the failing world anyway) and no "explain".
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@MATRIX_SETTINGS
@example(world=SHARED)
@example(world=NARROW)
@example(world=NOTHING)
@given(world=worlds())
async def test_nothing_leaks_by_query_or_push_and_every_read_is_audited(
    api: Api, db: Database, people: People, tally: Tally, world: World
) -> None:
    matrix = Matrix()
    built = await _insert(db, people, world)
    oracle = Oracle(world)
    async with db.read() as s:
        reads_after = int(await s.scalar(select(func.max(AuditEntry.id))) or 0)
    await _check_reads(api, matrix, oracle, people, built)
    async with db.read() as s:
        pushes_after = int(await s.scalar(select(func.max(AuditEntry.id))) or 0)
    pushed = await _check_pushes(api, db, matrix, tally, oracle, people, built)
    await _check_audit(db, matrix, oracle, people, built, reads_after, pushes_after, pushed)

    tally.examples += 1
    tally.cases += matrix.cases
    tally.consent_states |= {("revoked " if c.revoked else "") + c.window[0] for c in world.consents} or {"none"}
    tally.agreement_states |= {a.window[0] for a in world.agreements} or {"none"}
    if matrix.mismatches:
        pytest.fail(matrix.report(world), pytrace=False)
