"""Test helpers that speak the public protocols: HTTP GraphQL, sign-in, graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
import websockets
from argon2 import PasswordHasher
from sqlalchemy import func, select
from starlette.types import ASGIApp
from websockets.typing import Subprotocol

from db.accounts import ContinuumOfCare, Membership, Organization, Role, Site, Team, User
from db.audit import AuditAction, AuditEntry
from db.base import Base
from db.engine import Database
import db.models  # noqa: F401 - every table, for row_counts
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag, ProgramServiceArea
from db.seekers import ContactPreference, Seeker
from resolvers.referrals import NewReferral, ScreenerAnswer
from resolvers.seekers import NewSeeker
from web.serving import UVICORN_OPTIONS
from schema.ids import to_global_id

PASSWORD = "correct horse battery staple"
# The test accounts' hash, made once with argon2's cheapest parameters: sign-in still verifies it
# through the product's argon2 (the parameters travel in the hash), in a millisecond rather than 80.
# Sign-up, password changes and the seed hash at the product's own cost.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

SCREENER = [
    {"key": "household_size", "label": "How many people live in the household?", "required": True, "choices": []},
    {"key": "has_income", "label": "Does anyone in the household have income?", "required": False, "choices": ["Yes", "No"]},
]


@dataclass
class Network:
    """Ids (global, as clients see them) and sign-in emails of the test network."""

    ids: dict[str, str] = field(default_factory=dict)
    pks: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


async def build_network(db: Database) -> Network:
    """Reference data that has no API of its own yet: organizations, people, programs."""
    password_hash = PASSWORD_HASH
    net = Network()
    async with db.write() as s:
        coc = ContinuumOfCare(code="XX-500", name="Test County CoC")
        s.add(coc)
        await s.flush()
        food = Organization(name="Harbor Food Bank", coc_id=coc.id)
        navs = Organization(name="Eastside Navigators", coc_id=coc.id)
        clinic = Organization(name="Northside Clinic", coc_id=coc.id)
        s.add_all([food, navs, clinic])
        await s.flush()
        team = Team(organization_id=navs.id, name="Family team")
        office = Site(organization_id=navs.id, name="Main office", tracking_only=False)
        outreach = Site(organization_id=navs.id, name="Street outreach", tracking_only=True)
        s.add_all([team, office, outreach])
        await s.flush()

        def program(org: Organization, name: str, mode: ConnectMode, category: ProgramCategory, **kw: Any) -> Program:
            p = Program(organization_id=org.id, name=name, connect_mode=mode, contact_emails=[f"intake@{org.id}.example.org"], **kw)
            p.categories = [ProgramCategoryTag(category=category)]
            s.add(p)
            return p

        pantry = program(food, "Harbor Pantry", ConnectMode.REFER, ProgramCategory.FOOD, screener=SCREENER, description="Weekly groceries")
        pantry.service_areas = [ProgramServiceArea(postal_code="90012")]
        snap = program(food, "Harbor SNAP Help", ConnectMode.EXTERNAL, ProgramCategory.FOOD, external_url="https://example.org/snap")
        clinic_program = program(clinic, "Northside Primary Care", ConnectMode.SCHEDULE, ProgramCategory.HEALTH)
        await s.flush()

        def user(name: str, email: str) -> User:
            u = User(name=name, email=email, password_hash=password_hash)
            s.add(u)
            return u

        navigator = user("Nadia Navigator", "navigator@test.example")
        teammate = user("Tomas Teammate", "teammate@test.example")
        loner = user("Lena Loner", "loner@test.example")
        tracker = user("Otto Outreach", "outreach@test.example")
        intake = user("Ines Intake", "intake@test.example")
        clinic_staff = user("Carl Clinic", "clinic@test.example")
        both = user("Bea Both", "both@test.example")
        seeker_user = user("Sam Seeker", "seeker@test.example")
        await s.flush()
        s.add_all(
            [
                Membership(user_id=navigator.id, organization_id=navs.id, role=Role.NAVIGATOR, team_id=team.id, site_id=office.id),
                Membership(user_id=teammate.id, organization_id=navs.id, role=Role.NAVIGATOR, team_id=team.id, site_id=office.id),
                Membership(user_id=loner.id, organization_id=navs.id, role=Role.NAVIGATOR, site_id=office.id),
                Membership(user_id=tracker.id, organization_id=navs.id, role=Role.NAVIGATOR, team_id=team.id, site_id=outreach.id),
                Membership(user_id=intake.id, organization_id=food.id, role=Role.PROGRAM_STAFF),
                Membership(user_id=clinic_staff.id, organization_id=clinic.id, role=Role.PROGRAM_STAFF),
                Membership(user_id=both.id, organization_id=clinic.id, role=Role.PROGRAM_STAFF),
                Membership(user_id=both.id, organization_id=food.id, role=Role.PROGRAM_STAFF),
            ]
        )
        sam = Seeker(
            user_id=seeker_user.id,
            first_name="Sam",
            last_name="Seeker",
            email="sam@example.com",
            phone="+12025550143",
            contact_preference=ContactPreference.EMAIL,
            created_by_user_id=navigator.id,
        )
        s.add(sam)
        await s.flush()
    models: dict[str, Program | Organization | Seeker] = {
        "pantry": pantry,
        "snap": snap,
        "clinic_program": clinic_program,
        "food": food,
        "navs": navs,
        "clinic": clinic,
        "sam": sam,
    }
    for name, model in models.items():
        type_name = {Program: "Program", Organization: "Organization", Seeker: "Seeker"}[type(model)]
        net.ids[name] = to_global_id(type_name, model.id)
        net.pks[name] = model.id
    return net


def pantry_referral(
    network: Network, n: int, *, contact_preference: ContactPreference | None = None, comment: str | None = None
) -> NewReferral:
    """A live referral of a new person to the Harbor Pantry, for tests that call the domain directly."""
    return NewReferral(
        program_id=network.pks["pantry"],
        seeker=NewSeeker(first_name=f"Person{n}", last_name="Test", email=f"p{n}@example.com"),
        contact_preference=contact_preference,
        consent=True,
        comment=comment,
        screener_answers=[ScreenerAnswer("household_size", "4"), ScreenerAnswer("has_income", "No")],
    )


@asynccontextmanager
async def serve(app: ASGIApp, **config: Any) -> AsyncIterator[str]:
    """The app under uvicorn on a free loopback port, as "127.0.0.1:<port>"; `config` goes to uvicorn.Config."""
    options = {**UVICORN_OPTIONS, **config}
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options))
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        await asyncio.wait_for(task, timeout=10)


class GraphQLErrors(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(json.dumps(errors, indent=1))
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class Api:
    """A client of the running server, signed in as whoever `login` was last given."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.http = httpx.AsyncClient(base_url=f"http://{host}", timeout=20)
        self.tokens: dict[str, str] = {}
        self._signing_in: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def token(self, email: str) -> str:
        # One sign-in per account, however many requests want it at once: sign-ins in flight count
        # against the account's lockout (resolvers/throttle.py), as a person's would.
        async with self._signing_in.setdefault(email, asyncio.Lock()):
            if email not in self.tokens:
                response = await self.http.post("/auth/login", json={"email": email, "password": PASSWORD})
                assert response.status_code == 200, response.text
                self.tokens[email] = response.json()["token"]
        return self.tokens[email]

    async def raw(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {await self.token(as_)}"} if as_ else {}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body: dict[str, Any] = response.json()
        return body

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None) -> dict[str, Any]:
        """The data of a request that must succeed."""
        body = await self.raw(query, variables, as_=as_)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    async def errors(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None) -> GraphQLErrors:
        """The errors of a request that must fail."""
        body = await self.raw(query, variables, as_=as_)
        assert body.get("errors"), f"expected errors, got {body}"
        return GraphQLErrors(body["errors"])

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, *, as_: str) -> Subscription:
        sub = Subscription(self.host, await self.token(as_), query, variables or {})
        await sub.start()
        return sub


class Subscription:
    """One graphql-transport-ws connection carrying one subscription."""

    def __init__(self, host: str, token: str, query: str, variables: dict[str, Any]) -> None:
        self.url = f"ws://{host}/graphql"
        self.token = token
        self.query = query
        self.variables = variables
        self.ws: Any = None

    async def start(self) -> None:
        self.ws = await websockets.connect(self.url, subprotocols=[Subprotocol("graphql-transport-ws")])
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": self.query, "variables": self.variables}}))

    async def next(self, timeout: float = 5) -> dict[str, Any]:
        """The next pushed payload's data; fails on an error message or a timeout."""
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    raise GraphQLErrors(message["payload"]["errors"])
                data: dict[str, Any] = message["payload"]["data"]
                return data
            if message["type"] == "error":
                raise GraphQLErrors(message["payload"])
            raise AssertionError(f"unexpected message {message}")

    async def nothing(self, within: float = 0.7) -> None:
        """Assert that nothing is pushed for a while."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")

    async def close(self) -> None:
        await self.ws.close()


async def add_member(db: Database, email: str, *, organization_id: int, role: Role, name: str = "Added Member") -> str:
    """A new user with one membership, signed in by `email` with the test password."""
    async with db.write() as s:
        user = User(name=name, email=email, password_hash=PASSWORD_HASH)
        s.add(user)
        await s.flush()
        s.add(Membership(user_id=user.id, organization_id=organization_id, role=role))
    return email


async def add_housing_program(db: Database, network: Network, *, name: str = "Clinic Rapid Rehousing") -> str:
    """A live HOUSING program of the Northside Clinic (in the test CoC); its global id."""
    async with db.write() as s:
        program = Program(
            organization_id=network.pks["clinic"],
            name=name,
            connect_mode=ConnectMode.APPLY,
            contact_emails=["housing@clinic.example.org"],
        )
        program.categories = [ProgramCategoryTag(category=ProgramCategory.HOUSING)]
        s.add(program)
        await s.flush()
        network.pks["housing"] = program.id
        network.ids["housing"] = to_global_id("Program", program.id)
    return network.ids["housing"]


async def until(condition: Callable[[], bool], *, timeout: float = 5.0, what: str = "the condition") -> None:
    """Wait for what a test expects, not for a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


# Rows a request's sign-in writes (its session, its throttle counters), not the mutation.
SIGN_IN_TABLES = {"sign_in_sessions", "sign_in_throttles"}


async def row_counts(db: Database, *, reads: bool = False) -> dict[str, int]:
    """Rows in every table; of the audit log, the writes only (answering a repeat may be a recorded read) unless `reads`."""
    columns = []
    for table in Base.metadata.sorted_tables:
        if table.name in SIGN_IN_TABLES:
            continue
        stmt = select(func.count()).select_from(table)
        if table.name == AuditEntry.__tablename__ and not reads:
            stmt = stmt.where(table.c.action == AuditAction.WRITE.name)
        columns.append(stmt.scalar_subquery().label(table.name))
    async with db.read() as s:
        row = (await s.execute(select(*columns))).one()
    return {name: int(value) for name, value in row._mapping.items()}
