"""The policy end to end: every kind of viewer against every kind of referral, through the public API.

One world is built (on top of the `network` fixture): a housing program, a food pantry, an external
program, a tracking-only site, a self-referral, "don't reach out" seekers, admins on both sides, CE
managers of this and another CoC, a navigator who has since moved to another organization, and
someone signed out. For each (viewer, referral) the test asks the running server over HTTP and
graphql-transport-ws what the viewer can fetch, list, see, change and is pushed, and compares it
with the answer worked out here, from the product's written rules, without calling the policy.

Mismatches are collected and reported at the end as one table, so that a failure lists every case
that disagrees, not just the first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets
from sqlalchemy import func, select, update
from websockets.typing import Subprotocol

from db.accounts import ContinuumOfCare, Membership, Organization, Role, Site, User
from db.engine import Database
from db.events import OutboxEvent
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import Comment, Referral, StatusChange
from schema.ids import parse_global_id, to_global_id
from tests.support import PASSWORD, PASSWORD_HASH, SCREENER, Api, GraphQLErrors, Network, Subscription

# ---------------------------------------------------------------------------------------------
# The world, as the test knows it.
# ---------------------------------------------------------------------------------------------

COC = "XX-500"
OTHER_COC = "YY-600"
# Organization key -> the CoC it belongs to. navs, food and clinic come from `build_network`.
ORG_COC = {"navs": COC, "food": COC, "clinic": COC, "housing": COC, "ce": COC, "valley": OTHER_COC}
# Program key -> (organization key, is a housing program).
PROGRAMS = {
    "pantry": ("food", False),
    "snap": ("food", False),
    "clinic_program": ("clinic", False),
    "housing": ("housing", True),
}

ALL_STATUSES = (
    "NOT_UPDATED", "NEEDS_CLIENT_ACTION", "PENDING", "REFERRED_ELSEWHERE", "ELIGIBLE", "GOT_HELP",
    "COULDNT_GET_HELP", "COULDNT_CONTACT", "NOT_ELIGIBLE", "NO_CAPACITY", "NO_LONGER_INTERESTED",
)  # fmt: skip
SEEKER_STATUSES = frozenset({"GOT_HELP", "COULDNT_GET_HELP", "NO_LONGER_INTERESTED"})
IN_PROGRESS = ("NOT_UPDATED", "NEEDS_CLIENT_ACTION", "PENDING", "REFERRED_ELSEWHERE", "ELIGIBLE")


@dataclass(frozen=True)
class Who:
    """A viewer: whom they sign in as and the membership they act in now."""

    key: str
    email: str | None  # None: signed out
    role: Role | None = None
    org: str | None = None
    team: str | None = None
    seeker: str | None = None  # the person whose own account this is


VIEWERS = [
    Who("seeker", "seeker@test.example", Role.SEEKER, seeker="sam"),
    Who("navigator", "navigator@test.example", Role.NAVIGATOR, "navs", "family"),
    Who("teammate", "teammate@test.example", Role.NAVIGATOR, "navs", "family"),
    Who("nav_outside_team", "loner@test.example", Role.NAVIGATOR, "navs"),
    Who("tracker", "outreach@test.example", Role.NAVIGATOR, "navs", "family"),
    Who("referring_admin", "navs-admin@matrix.example", Role.ADMIN, "navs"),
    Who("pantry_staff", "intake@test.example", Role.PROGRAM_STAFF, "food"),
    Who("other_org_staff", "clinic@test.example", Role.PROGRAM_STAFF, "clinic"),
    # Staff of the clinic and of the food bank, acting for the clinic.
    Who("staff_acting_elsewhere", "both@test.example", Role.PROGRAM_STAFF, "clinic"),
    Who("pantry_org_admin", "food-admin@matrix.example", Role.ADMIN, "food"),
    Who("housing_staff", "housing-staff@matrix.example", Role.PROGRAM_STAFF, "housing"),
    Who("housing_org_admin", "housing-admin@matrix.example", Role.ADMIN, "housing"),
    Who("ce_manager", "ce@matrix.example", Role.CE_MANAGER, "ce"),
    Who("ce_other_coc", "ce-other@matrix.example", Role.CE_MANAGER, "valley"),
    # Made a referral acting for the navigators, then switched to the housing organization.
    Who("moved_navigator", "roamer@matrix.example", Role.NAVIGATOR, "housing"),
    Who("signed_out", None),
]
BY_KEY = {v.key: v for v in VIEWERS}

# Person key -> (first name, last name, email, phone as entered, E.164, who created the profile).
PEOPLE = {
    "sam": ("Sam", "Seeker", "sam@example.com", None, "+12025550143", "navigator"),
    "nora": ("Nora", "Quiet", "nora@people.example", "(202) 555-0101", "+12025550101", "navigator"),
    "hank": ("Hank", "Home", "hank@people.example", "(202) 555-0102", "+12025550102", "navigator"),
    "holly": ("Holly", "Hidden", "holly@people.example", "(202) 555-0103", "+12025550103", "teammate"),
    "lou": ("Lou", "Logged", "lou@people.example", "(202) 555-0104", "+12025550104", "navigator"),
    "tess": ("Tess", "Tracked", "tess@people.example", "(202) 555-0105", "+12025550105", "tracker"),
    "cleo": ("Cleo", "Clinic", "cleo@people.example", "(202) 555-0106", "+12025550106", "nav_outside_team"),
    "rita": ("Rita", "Roam", "rita@people.example", "(202) 555-0107", "+12025550107", "moved_navigator"),
}


@dataclass
class Ref:
    key: str
    by: str  # the viewer key who makes it
    program: str
    person: str
    preference: str
    kind: str
    # Who is recorded as the referrer: (user, organization, team); None for a self-referral.
    referrer: tuple[str, str, str | None] | None
    consent: bool  # as stored: only live referrals carry consent
    answers: bool  # whether screener answers are stored
    # Then: the allowed change the push test makes, by whom.
    change_by: str
    change_to: str
    # Filled in once made.
    id: str = ""
    pk: int = 0
    status: str = "NOT_UPDATED"
    version: int = 1


def _referrals() -> list[Ref]:
    nav = ("navigator", "navs", "family")
    return [
        Ref("live pantry, EMAIL", "navigator", "pantry", "sam", "EMAIL", "LIVE", nav, True, True, "pantry_staff", "PENDING"),
        Ref("live pantry, NONE", "navigator", "pantry", "nora", "NONE", "LIVE", nav, True, True, "pantry_org_admin", "ELIGIBLE"),
        Ref("live housing, EMAIL", "navigator", "housing", "hank", "EMAIL", "LIVE", nav, True, True, "housing_staff", "PENDING"),
        Ref(
            "live housing, NONE", "teammate", "housing", "holly", "NONE", "LIVE", ("teammate", "navs", "family"),
            True, True, "housing_org_admin", "NO_CAPACITY",
        ),  # fmt: skip
        Ref("logged (external)", "navigator", "snap", "lou", "EMAIL", "LOGGED", nav, False, False, "navigator", "GOT_HELP"),
        Ref(
            "tracking-only", "tracker", "pantry", "tess", "EMAIL", "TRACKING_ONLY", ("tracker", "navs", "family"),
            False, False, "teammate", "PENDING",
        ),  # fmt: skip
        Ref("self-referral", "seeker", "pantry", "sam", "EMAIL", "LIVE", None, True, True, "seeker", "GOT_HELP"),
        Ref(
            "live clinic, PHONE", "nav_outside_team", "clinic_program", "cleo", "PHONE", "LIVE",
            ("nav_outside_team", "navs", None), True, False, "other_org_staff", "PENDING",
        ),  # fmt: skip
        Ref(
            "live pantry by moved nav", "moved_navigator", "pantry", "rita", "TEXT", "LIVE",
            ("moved_navigator", "navs", None), True, True, "referring_admin", "REFERRED_ELSEWHERE",
        ),  # fmt: skip
    ]


# ---------------------------------------------------------------------------------------------
# The rules, written out from the product's spec (not from resolvers.policy).
# ---------------------------------------------------------------------------------------------


def standings(v: Who, r: Ref) -> set[str]:
    """How the viewer stands to the referral."""
    program_org, housing = PROGRAMS[r.program]
    found = set()
    if v.role is Role.SEEKER and v.seeker is not None and v.seeker == r.person:
        found.add("seeker")
    if v.role is Role.NAVIGATOR and r.referrer is not None:
        user, org, team = r.referrer
        if user == v.key and org == v.org:
            found.add("referrer")
        if v.team is not None and team == v.team:
            found.add("team")
    if v.role is Role.ADMIN and r.referrer is not None and r.referrer[1] == v.org:
        found.add("referring admin")
    if v.role in (Role.PROGRAM_STAFF, Role.ADMIN) and r.kind == "LIVE" and program_org == v.org:
        found.add("program staff" if v.role is Role.PROGRAM_STAFF else "program admin")
    if v.role is Role.CE_MANAGER and r.kind == "LIVE" and v.org is not None and ORG_COC[program_org] == ORG_COC[v.org]:
        found.add("ce housing" if housing else "ce wall")
    return found


REFERRER_SIDE = {"referrer", "team", "referring admin"}
PROGRAM_SIDE = {"program staff", "program admin"}
HELPERS = {"seeker"} | REFERRER_SIDE | PROGRAM_SIDE


def may_read(v: Who, r: Ref) -> bool:
    return bool(standings(v, r) - {"ce wall"})


def on_wall(v: Who, r: Ref) -> bool:
    return bool(standings(v, r) & {"ce housing", "ce wall"})


def sees_contact(v: Who, r: Ref) -> bool:
    s = standings(v, r)
    if s & ({"seeker"} | REFERRER_SIDE):
        return True
    shared = r.consent and r.preference != "NONE"
    return bool(s & (PROGRAM_SIDE | {"ce housing"})) and shared


def statuses(v: Who, r: Ref) -> set[str]:
    s = standings(v, r)
    allowed: set[str] = set()
    if "seeker" in s:
        allowed |= SEEKER_STATUSES
    if s & (REFERRER_SIDE | PROGRAM_SIDE):
        allowed |= set(ALL_STATUSES)
    return allowed - {r.status}  # moving to the status it has is no change


def may_comment(v: Who, r: Ref) -> bool:
    return bool(standings(v, r) & HELPERS)


def person_of(refs: list[Ref], person: str) -> list[Ref]:
    return [r for r in refs if r.person == person]


def helps(v: Who, person: str, refs: list[Ref]) -> bool:
    """On the referrer side of one of the person's referrals: People I'm Helping."""
    return v.role in (Role.NAVIGATOR, Role.ADMIN) and any(standings(v, r) & REFERRER_SIDE for r in person_of(refs, person))


def sees_profile(v: Who, person: str, refs: list[Ref]) -> bool:
    if v.role is Role.SEEKER:
        return v.seeker == person
    if v.role in (Role.NAVIGATOR, Role.ADMIN):
        return PEOPLE[person][5] == v.key or helps(v, person, refs)
    return False


def initials(person: str) -> str:
    first, last = PEOPLE[person][:2]
    return f"{first[0]}. {last[0]}."


# ---------------------------------------------------------------------------------------------
# GraphQL documents.
# ---------------------------------------------------------------------------------------------

SEEN = """
fragment Seen on Referral {
  id kind status version seekerWillReachOut
  seeker { id email phone }
  screenerAnswers { key value }
  comments { body }
  history { toStatus }
  viewerCan { statuses comment }
}
"""
INBOUND = "{ inboundReferrals(first: 50) { edges { node { id seeker { email phone } } } } }"
FOR_ME = "{ referralsForMe(first: 50) { edges { node { id seeker { email } } } } }"
PEOPLE_IM_HELPING = "{ peopleImHelping(first: 50) { edges { node { id email phone referrals(first: 50) { edges { node { id } } } } } } }"
PROFILES = "{ seekerProfiles(first: 50) { edges { node { id email phone } } } }"
CREATE = """
mutation($input: CreateReferralInput!) {
  createReferral(input: $input) { id kind consent seeker { id } navigator { name } }
}
"""
UPDATE = """
mutation($input: UpdateReferralStatusInput!) { updateReferralStatus(input: $input) { id status version } }
"""
COMMENT = "mutation($input: AddReferralCommentInput!) { addReferralComment(input: $input) { id comments { body } } }"
CHANGES = """
subscription($afterSeq: Int) {
  referralChanged(afterSeq: $afterSeq) { seq kind referral { id status seeker { email phone } } }
}
"""
WALL = """
query($coc: String!) {
  wallboard(cocCode: $coc) { openByStatus { status count } waitingLongest(first: 50) { id seekerInitials } }
}
"""
WALL_CHANGES = """
subscription($coc: String!, $afterSeq: Int) {
  wallboardChanged(cocCode: $coc, afterSeq: $afterSeq) {
    kind toStatus referral { id status seekerInitials createdAt updatedAt program { name organizationName } }
  }
}
"""

# ---------------------------------------------------------------------------------------------
# Collecting answers.
# ---------------------------------------------------------------------------------------------


@dataclass
class Matrix:
    cases: int = 0
    mismatches: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def check(self, viewer: str, referral: str, what: str, expected: Any, got: Any) -> None:
        self.cases += 1
        if expected != got:
            self.mismatches.append((viewer, referral, what, _show(expected), _show(got)))

    def report(self) -> str:
        header = ("viewer", "referral", "check", "expected", "got")
        rows = [header, *self.mismatches]
        widths = [min(48, max(len(row[i]) for row in rows)) for i in range(5)]
        lines = [" | ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return f"{len(self.mismatches)} of {self.cases} cases disagree with the rules:\n" + "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}" if value else "{}"
    return str(value)


async def _ask(api: Api, query: str, variables: dict[str, Any] | None, who: Who) -> tuple[Any, str | None]:
    """The data, or the first error's code."""
    body = await api.raw(query, variables, as_=who.email)
    if body.get("errors"):
        return None, body["errors"][0].get("extensions", {}).get("code")
    return body["data"], None


def _outcome(visible: bool, who: Who) -> str:
    if who.email is None:
        return "UNAUTHENTICATED"
    return "visible" if visible else "NOT_FOUND"


class SignedOutSubscription(Subscription):
    """A graphql-transport-ws connection that sends no token."""

    def __init__(self, host: str, query: str, variables: dict[str, Any]) -> None:
        super().__init__(host, "", query, variables)

    async def start(self) -> None:
        self.ws = await websockets.connect(self.url, subprotocols=[Subprotocol("graphql-transport-ws")])
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": self.query, "variables": self.variables}}))


async def _drain(sub: Subscription, *, expect: int, quiet: float = 0.8, wait: float = 6.0) -> list[dict[str, Any]]:
    """Everything pushed until the stream has been quiet for a while (longer while fewer than `expect` came)."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            got.append(await sub.next(timeout=wait if len(got) < expect else quiet))
        except TimeoutError:
            return got


# ---------------------------------------------------------------------------------------------
# Building the world.
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    refs: list[Ref]
    people: dict[str, str]  # person key -> global id
    orgs: dict[str, int]


async def _add_people_and_places(db: Database, network: Network) -> dict[str, int]:
    password_hash = PASSWORD_HASH
    async with db.write() as s:
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        other = ContinuumOfCare(code=OTHER_COC, name="Other County CoC")
        s.add(other)
        await s.flush()
        housing = Organization(name="Harbor Housing", coc_id=coc.id)
        ce = Organization(name="Test County CE", coc_id=coc.id)
        valley = Organization(name="Valley CE Lead", coc_id=other.id)
        s.add_all([housing, ce, valley])
        await s.flush()
        program = Program(
            organization_id=housing.id, name="Harbor Rapid Rehousing", connect_mode=ConnectMode.APPLY,
            contact_emails=["intake@housing.example.org"], screener=SCREENER,
        )  # fmt: skip
        program.categories = [ProgramCategoryTag(category=ProgramCategory.HOUSING)]
        s.add(program)
        orgs = {"navs": network.pks["navs"], "food": network.pks["food"], "clinic": network.pks["clinic"]}
        orgs |= {"housing": housing.id, "ce": ce.id, "valley": valley.id}
        office = await s.scalar(select(Site.id).where(Site.organization_id == orgs["navs"], Site.tracking_only.is_(False)))
        assert office is not None
        for v in VIEWERS:
            if v.email is None or not v.email.endswith("@matrix.example"):
                continue
            user = User(name=v.key.replace("_", " ").title(), email=v.email, password_hash=password_hash)
            s.add(user)
            await s.flush()
            if v.key == "moved_navigator":
                s.add(Membership(user_id=user.id, organization_id=orgs["navs"], role=Role.NAVIGATOR, site_id=office))
                user.acting_organization_id = orgs["navs"]
            assert v.org is not None and v.role is not None
            s.add(Membership(user_id=user.id, organization_id=orgs[v.org], role=v.role))
        # Bea acts for the clinic, whatever the order of her memberships.
        await s.execute(update(User).where(User.email == "both@test.example").values(acting_organization_id=orgs["clinic"]))
        await s.flush()
        network.pks["housing"] = program.id
        network.ids["housing"] = to_global_id("Program", program.id)
    return orgs


async def _build(api: Api, db: Database, network: Network, matrix: Matrix) -> World:
    orgs = await _add_people_and_places(db, network)
    refs = _referrals()
    people = {"sam": network["sam"]}
    for r in refs:
        first, last, email, phone, _e164, _creator = PEOPLE[r.person]
        payload: dict[str, Any] = {"programId": network[r.program], "contactPreference": r.preference, "comment": f"About {r.key}"}
        if r.by == "seeker":
            pass  # a seeker refers themself
        elif r.person in people:
            payload["seekerId"] = people[r.person]
        else:
            payload["seeker"] = {"firstName": first, "lastName": last, "email": email, "phone": phone}
        if r.kind == "LIVE":
            payload["consent"] = True
        # The world refers some people to one program more than once, one referral per case to check.
        payload["overrideDuplicateReason"] = "A case of the policy matrix"
        if r.answers:
            payload["screenerAnswers"] = [{"key": "household_size", "value": "3"}, {"key": "has_income", "value": "No"}]
        made = (await api.gql(CREATE, {"input": payload}, as_=BY_KEY[r.by].email))["createReferral"]
        r.id = made["id"]
        r.pk = parse_global_id(r.id)[1]
        people.setdefault(r.person, made["seeker"]["id"])
        matrix.check(r.by, r.key, "createReferral: kind", r.kind, made["kind"])
        matrix.check(r.by, r.key, "createReferral: self-referral has no navigator", r.referrer is None, made["navigator"] is None)
    # The navigator who made the last referral now acts for the housing organization.
    switched = await api.gql(
        "mutation($id: ID!) { switchOrganization(organizationId: $id) { role organization { name } } }",
        {"id": to_global_id("Organization", orgs["housing"])},
        as_=BY_KEY["moved_navigator"].email,
    )
    assert switched["switchOrganization"] == {"role": "NAVIGATOR", "organization": {"name": "Harbor Housing"}}
    return World(refs=refs, people=people, orgs=orgs)


# ---------------------------------------------------------------------------------------------
# The checks.
# ---------------------------------------------------------------------------------------------


def _check_seen(matrix: Matrix, v: Who, r: Ref, how: str, seen: dict[str, Any]) -> None:
    """Everything the rules say about one visible referral, as fetched by `how`."""
    first, last, email, _phone, e164, _creator = PEOPLE[r.person]
    contact = sees_contact(v, r)
    matrix.check(v.key, r.key, f"{how}: seeker.email", email if contact else None, seen["seeker"]["email"])
    matrix.check(v.key, r.key, f"{how}: seeker.phone", e164 if contact else None, seen["seeker"]["phone"])
    matrix.check(v.key, r.key, f"{how}: comments visible", True, bool(seen["comments"]))
    matrix.check(v.key, r.key, f"{how}: history visible", True, bool(seen["history"]))
    matrix.check(v.key, r.key, f"{how}: screenerAnswers visible", r.answers, bool(seen["screenerAnswers"]))
    matrix.check(v.key, r.key, f"{how}: viewerCan.statuses", statuses(v, r), set(seen["viewerCan"]["statuses"]))
    matrix.check(v.key, r.key, f"{how}: viewerCan.comment", may_comment(v, r), seen["viewerCan"]["comment"])
    if standings(v, r) & PROGRAM_SIDE:
        matrix.check(v.key, r.key, f"{how}: seekerWillReachOut", r.preference == "NONE", seen["seekerWillReachOut"])


async def _fetch_each(api: Api, v: Who, field: str, ids: list[str], selection: str) -> list[tuple[Any, str | None]]:
    """`field(id:)` for every id in one request, one alias each: each one's data, or its error's code."""
    aliases = [f"a{i}" for i in range(len(ids))]
    params = ", ".join(f"${a}: ID!" for a in aliases)
    fields = " ".join(f"{a}: {field}(id: ${a}) {selection}" for a in aliases)
    fragments = SEEN if "...Seen" in selection else ""
    body = await api.raw(f"query({params}) {{ {fields} }}" + fragments, dict(zip(aliases, ids)), as_=v.email)
    codes = {e["path"][0]: e.get("extensions", {}).get("code") for e in body.get("errors") or [] if e.get("path")}
    data = body.get("data") or {}
    return [(data.get(a), codes.get(a)) for a in aliases]


async def _check_fetches(api: Api, matrix: Matrix, world: World, v: Who) -> None:
    """referral(id) and node(id) of every referral, node(id) of every seeker profile."""
    refs = world.refs
    for how, name, selection in (
        ("referral(id)", "referral", "{ ...Seen }"),
        ("node(id)", "node", "{ id ... on Referral { ...Seen } }"),
    ):
        for r, (seen, code) in zip(refs, await _fetch_each(api, v, name, [r.id for r in refs], selection)):
            matrix.check(v.key, r.key, how, _outcome(may_read(v, r), v), "visible" if seen is not None else code)
            if seen is not None and may_read(v, r):
                _check_seen(matrix, v, r, how, seen)

    people = list(world.people.items())
    profiles = await _fetch_each(api, v, "node", [gid for _, gid in people], "{ id ... on Seeker { email phone } }")
    for (person, _gid), (profile, code) in zip(people, profiles):
        case = f"person {person}"
        got = "visible" if profile is not None else code
        matrix.check(v.key, case, "node(Seeker)", _outcome(sees_profile(v, person, refs), v), got)
        if profile is not None:
            matrix.check(v.key, case, "node(Seeker): email", PEOPLE[person][2], profile["email"])
            matrix.check(v.key, case, "node(Seeker): phone", PEOPLE[person][4], profile["phone"])


def _refused(v: Who) -> str:
    """What a list or board answers someone it is not for."""
    return "UNAUTHENTICATED" if v.email is None else "FORBIDDEN"


async def _check_referral_lists(api: Api, matrix: Matrix, world: World, v: Who) -> None:
    """inboundReferrals (program side) and referralsForMe (the seeker's own)."""
    lists: list[tuple[str, str, set[Role], Callable[[Ref], bool]]] = [
        ("inboundReferrals", INBOUND, {Role.PROGRAM_STAFF, Role.ADMIN}, lambda r: bool(standings(v, r) & PROGRAM_SIDE)),
        ("referralsForMe", FOR_ME, {Role.SEEKER}, lambda r: "seeker" in standings(v, r)),
    ]
    for name, doc, roles, listed in lists:
        data, code = await _ask(api, doc, None, v)
        if v.role not in roles:
            matrix.check(v.key, "-", f"{name}: refused", _refused(v), code)
            continue
        nodes = {e["node"]["id"]: e["node"] for e in data[name]["edges"]}
        for r in world.refs:
            matrix.check(v.key, r.key, f"{name}: listed", listed(r), r.id in nodes)
            if r.id in nodes:
                email = PEOPLE[r.person][2] if sees_contact(v, r) else None
                matrix.check(v.key, r.key, f"{name}: seeker.email", email, nodes[r.id]["seeker"]["email"])


async def _check_people_lists(api: Api, matrix: Matrix, world: World, v: Who) -> None:
    """peopleImHelping (the referrer side's people) and seekerProfiles (theirs and the ones they created)."""
    refs = world.refs
    helper_roles = {Role.NAVIGATOR, Role.ADMIN}
    data, code = await _ask(api, PEOPLE_IM_HELPING, None, v)
    if v.role not in helper_roles:
        matrix.check(v.key, "-", "peopleImHelping: refused", _refused(v), code)
    else:
        helped = {e["node"]["id"]: e["node"] for e in data["peopleImHelping"]["edges"]}
        their_refs = {ref["node"]["id"] for p in helped.values() for ref in p["referrals"]["edges"]}
        for person, gid in world.people.items():
            case = f"person {person}"
            matrix.check(v.key, case, "peopleImHelping: person listed", helps(v, person, refs), gid in helped)
            if gid in helped:
                matrix.check(v.key, case, "peopleImHelping: email", PEOPLE[person][2], helped[gid]["email"])
        for r in refs:
            expected = helps(v, r.person, refs) and may_read(v, r)
            matrix.check(v.key, r.key, "peopleImHelping: referral listed", expected, r.id in their_refs)

    data, code = await _ask(api, PROFILES, None, v)
    if v.role not in helper_roles:
        matrix.check(v.key, "-", "seekerProfiles: refused", _refused(v), code)
        return
    profiles = {e["node"]["id"]: e["node"] for e in data["seekerProfiles"]["edges"]}
    for r in refs:
        listed = world.people[r.person] in profiles
        matrix.check(v.key, r.key, "seekerProfiles: its seeker listed", sees_profile(v, r.person, refs), listed)
    for person, gid in world.people.items():
        if gid in profiles:
            matrix.check(v.key, f"person {person}", "seekerProfiles: email", PEOPLE[person][2], profiles[gid]["email"])


async def _footprint(db: Database, r: Ref) -> tuple[Any, ...]:
    """Everything a refused change could have written."""
    async with db.read() as s:
        row = (await s.execute(select(Referral.status, Referral.version, Referral.updated_at).where(Referral.id == r.pk))).one()
        history = await s.scalar(select(func.count()).select_from(StatusChange).where(StatusChange.referral_id == r.pk))
        comments = await s.scalar(select(func.count()).select_from(Comment).where(Comment.referral_id == r.pk))
        seq = await s.scalar(select(func.max(OutboxEvent.seq)))
    return (*row, history, comments, seq)


async def _check_refusals(api: Api, db: Database, matrix: Matrix, world: World, v: Who) -> None:
    """Changes the rules refuse are refused, with the right code, and write nothing."""
    for r in world.refs:
        allowed = statuses(v, r)
        if v.email is None:
            target, expected = "PENDING", "UNAUTHENTICATED"
        elif not may_read(v, r):
            target, expected = "PENDING", "NOT_FOUND"
        else:
            outside = [s for s in ALL_STATUSES if s != r.status and s not in allowed]
            # With every other status allowed, the only one left is the current: no change to make.
            target, expected = (outside[0], "FORBIDDEN") if outside else (r.status, "BAD_USER_INPUT")
        before = await _footprint(db, r)
        variables = {"input": {"referralId": r.id, "status": target, "expectedVersion": r.version}}
        _data, code = await _ask(api, UPDATE, variables, v)
        matrix.check(v.key, r.key, f"updateReferralStatus({target}) refused", expected, code)
        matrix.check(v.key, r.key, f"updateReferralStatus({target}) writes nothing", before, await _footprint(db, r))

        if may_comment(v, r):
            continue  # tried (and allowed) after the push test
        expected = "UNAUTHENTICATED" if v.email is None else "FORBIDDEN" if may_read(v, r) else "NOT_FOUND"
        before = await _footprint(db, r)
        _data, code = await _ask(api, COMMENT, {"input": {"referralId": r.id, "body": f"by {v.key}"}}, v)
        matrix.check(v.key, r.key, "addReferralComment refused", expected, code)
        matrix.check(v.key, r.key, "addReferralComment writes nothing", before, await _footprint(db, r))


def _wall_counts(world: World, coc: str) -> dict[str, int]:
    counts = dict.fromkeys(IN_PROGRESS, 0)
    for r in world.refs:
        if r.kind == "LIVE" and ORG_COC[PROGRAMS[r.program][0]] == coc and r.status in counts:
            counts[r.status] += 1
    return counts


async def _check_wallboards(api: Api, matrix: Matrix, world: World, when: str) -> None:
    ce = BY_KEY["ce_manager"]
    on_this_wall = [r for r in world.refs if on_wall(ce, r)]
    for v in VIEWERS:
        for coc in (COC, OTHER_COC):
            data, code = await _ask(api, WALL, {"coc": coc}, v)
            watches = v.role is Role.CE_MANAGER and v.org is not None and ORG_COC[v.org] == coc
            expected = "shown" if watches else _refused(v)
            matrix.check(v.key, "-", f"wallboard({coc}) {when}", expected, "shown" if data else code)
            if not data:
                continue
            board = data["wallboard"]
            counts = {c["status"]: c["count"] for c in board["openByStatus"]}
            matrix.check(v.key, "-", f"wallboard({coc}) {when}: openByStatus", _wall_counts(world, coc), counts)
            waiting = {w["id"]: w["seekerInitials"] for w in board["waitingLongest"]}
            for r in world.refs:
                expected_wait = initials(r.person) if on_wall(v, r) and r.status == "NOT_UPDATED" else None
                matrix.check(v.key, r.key, f"wallboard({coc}) {when}: waitingLongest", expected_wait, waiting.get(r.id))
    assert any(PROGRAMS[r.program][0] == "food" for r in on_this_wall), "the pantry's referrals are on the wall"


async def _check_pushes(api: Api, db: Database, matrix: Matrix, world: World) -> None:
    """Each viewer is pushed a status change exactly when they may read the referral, as the field rules say."""
    async with db.read() as s:
        after = int(await s.scalar(select(func.max(OutboxEvent.seq))) or 0)
    signed_in = [v for v in VIEWERS if v.email is not None]
    feeds = {v.key: await api.subscribe(CHANGES, {"afterSeq": after}, as_=v.email) for v in signed_in}  # type: ignore[arg-type]
    walls = {
        "ce_manager": await api.subscribe(WALL_CHANGES, {"coc": COC, "afterSeq": after}, as_=BY_KEY["ce_manager"].email),  # type: ignore[arg-type]
        "ce_other_coc": await api.subscribe(WALL_CHANGES, {"coc": OTHER_COC, "afterSeq": after}, as_=BY_KEY["ce_other_coc"].email),  # type: ignore[arg-type]
    }
    anonymous = SignedOutSubscription(api.host, CHANGES, {})
    await anonymous.start()
    try:
        await anonymous.next()
        matrix.check("signed_out", "-", "referralChanged: refused", "UNAUTHENTICATED", "subscribed")
    except GraphQLErrors as refused:
        matrix.check("signed_out", "-", "referralChanged: refused", "UNAUTHENTICATED", refused.codes[0] if refused.codes else refused.errors)
    await anonymous.close()

    for r in world.refs:
        actor = BY_KEY[r.change_by]
        assert r.change_to in statuses(actor, r), f"the test's own change must be allowed: {actor.key} on {r.key}"
        variables = {"input": {"referralId": r.id, "status": r.change_to, "expectedVersion": r.version, "note": "matrix"}}
        data, code = await _ask(api, UPDATE, variables, actor)
        matrix.check(actor.key, r.key, f"updateReferralStatus({r.change_to}) allowed", "ok", "ok" if data else code)
        if data:
            r.status, r.version = data["updateReferralStatus"]["status"], data["updateReferralStatus"]["version"]

    by_viewer = {v.key: [r for r in world.refs if may_read(v, r)] for v in signed_in}
    pushed = await asyncio.gather(*(_drain(feeds[v.key], expect=len(by_viewer[v.key])) for v in signed_in))
    for v, events in zip(signed_in, pushed):
        seen = {e["referralChanged"]["referral"]["id"]: e["referralChanged"] for e in events}
        for r in world.refs:
            matrix.check(v.key, r.key, "referralChanged: pushed", may_read(v, r), r.id in seen)
            if r.id in seen and may_read(v, r):
                event = seen[r.id]
                email = PEOPLE[r.person][2] if sees_contact(v, r) else None
                matrix.check(v.key, r.key, "referralChanged: kind", "STATUS_CHANGED", event["kind"])
                matrix.check(v.key, r.key, "referralChanged: seeker.email", email, event["referral"]["seeker"]["email"])
                matrix.check(v.key, r.key, "referralChanged: status", r.change_to, event["referral"]["status"])
        matrix.check(v.key, "-", "referralChanged: one push per change", len(seen), len(events))

    for key, sub in walls.items():
        v = BY_KEY[key]
        expected_refs = [r for r in world.refs if on_wall(v, r)]
        events = await _drain(sub, expect=len(expected_refs))
        seen = {e["wallboardChanged"]["referral"]["id"]: e["wallboardChanged"] for e in events}
        for r in world.refs:
            matrix.check(key, r.key, "wallboardChanged: pushed", on_wall(v, r), r.id in seen)
            if r.id in seen:
                change = seen[r.id]["referral"]
                matrix.check(key, r.key, "wallboardChanged: seekerInitials", initials(r.person), change["seekerInitials"])
                matrix.check(key, r.key, "wallboardChanged: toStatus", r.change_to, seen[r.id]["toStatus"])
                shown = {"id", "status", "seekerInitials", "createdAt", "updatedAt", "program"}
                matrix.check(key, r.key, "wallboardChanged: only the wall's fields", shown, set(change))
    for sub in [*feeds.values(), *walls.values()]:
        await sub.close()


async def _check_comments(api: Api, matrix: Matrix, world: World) -> None:
    """Everyone the rules let comment can."""
    for v in VIEWERS:
        for r in world.refs:
            if not may_comment(v, r):
                continue
            body = f"Matrix comment by {v.key}"
            data, code = await _ask(api, COMMENT, {"input": {"referralId": r.id, "body": body}}, v)
            matrix.check(v.key, r.key, "addReferralComment allowed", "ok", "ok" if data else code)
            if data:
                bodies = [c["body"] for c in data["addReferralComment"]["comments"]]
                matrix.check(v.key, r.key, "addReferralComment: comment shown", True, body in bodies)


async def test_policy_matrix_through_the_public_api(api: Api, network: Network, db: Database) -> None:
    matrix = Matrix()
    world = await _build(api, db, network, matrix)
    for v in VIEWERS:
        await _check_fetches(api, matrix, world, v)
        await _check_referral_lists(api, matrix, world, v)
        await _check_people_lists(api, matrix, world, v)
    await _check_wallboards(api, matrix, world, "before")
    for v in VIEWERS:
        await _check_refusals(api, db, matrix, world, v)
    await _check_pushes(api, db, matrix, world)
    await _check_wallboards(api, matrix, world, "after")
    await _check_comments(api, matrix, world)

    print(f"\npolicy matrix: {len(VIEWERS)} viewers x {len(world.refs)} referrals, {matrix.cases} cases")
    assert matrix.cases >= 500, matrix.cases
    if matrix.mismatches:
        pytest.fail(matrix.report(), pytrace=False)
