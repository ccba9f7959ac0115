"""Sign-in security: throttling and lockouts, password rules, sessions (idle, expiry, sign-out), websockets that follow them."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import event, select, update
from websockets.typing import Subprotocol

from db.accounts import User
from db.engine import Database
from db.seed import ACCOUNTS, DEMO_PASSWORD, demo_email
from db.settings import ROOT, Settings
from db.sign_in import SignInSession, SignInThrottle
from resolvers import sessions
from resolvers.accounts import viewer_for_session
from resolvers.passwords import MIN_LENGTH, password_problem
from resolvers.runtime import Runtime
from tests.documents import CHANGES, CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import PASSWORD, Api, GraphQLErrors, Network, Subscription, serve
from web.app import create_app

INTAKE = "intake@test.example"
NAVIGATOR = "navigator@test.example"
VIEWER = "{ viewer { email organization { name } } }"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
SWITCH = "mutation($id: ID!) { switchOrganization(organizationId: $id) { organization { name } } }"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Api]:
    """A server of its own with these settings, on the test's database, and a client of it."""
    async with serve(create_app(settings)) as host, Api(host) as api:
        yield api


async def sign_in(api: Api, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.http.post("/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def ask(api: Api, token: str, query: str = VIEWER, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=bearer(token))
    body: dict[str, Any] = response.json()
    return body


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


# ------------------------------------------------------------------------------------------------
# Throttling and lockouts
# ------------------------------------------------------------------------------------------------


async def test_five_failures_lock_the_account_even_against_the_right_password(api: Api, network: Network) -> None:
    for _ in range(5):
        wrong = await sign_in(api, INTAKE, "not the password at all")
        assert wrong.status_code == 401 and wrong.json()["code"] == "UNAUTHENTICATED"
    locked = await sign_in(api, INTAKE)
    assert locked.status_code == 429
    assert locked.json()["code"] == "RATE_LIMITED"
    assert "Too many failed sign-ins" in locked.json()["error"] and "15 minutes" in locked.json()["error"]
    assert 14 * 60 <= int(locked.headers["retry-after"]) <= 15 * 60
    # Another account from the same address is not locked out by it.
    assert (await sign_in(api, NAVIGATOR)).status_code == 200


async def test_a_success_resets_the_accounts_count(api: Api, network: Network) -> None:
    for _ in range(3):
        for _ in range(4):
            assert (await sign_in(api, INTAKE, "wrong wrong wrong")).status_code == 401
        assert (await sign_in(api, INTAKE)).status_code == 200


async def test_unknown_emails_are_answered_and_locked_like_known_ones(api: Api, network: Network) -> None:
    known = [await sign_in(api, INTAKE, "wrong wrong wrong") for _ in range(6)]
    unknown = [await sign_in(api, "nobody@test.example", "wrong wrong wrong") for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert [r.json()["error"] for r in known] == [r.json()["error"] for r in unknown]


async def test_an_address_has_a_budget_across_accounts(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, sign_in_address_failures=8)) as api:
        for n in range(8):
            assert (await sign_in(api, f"guess{n}@test.example", "wrong wrong wrong")).status_code == 401
        refused = await sign_in(api, NAVIGATOR)
        assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
        assert "network address" in refused.json()["error"] and int(refused.headers["retry-after"]) > 0


async def test_a_lockout_holds_across_a_restart(settings: Settings, network: Network) -> None:
    async with serving(settings) as first:
        for _ in range(5):
            await sign_in(first, INTAKE, "wrong wrong wrong")
    async with serving(settings) as second:
        assert (await sign_in(second, INTAKE)).status_code == 429


async def test_a_burst_of_guesses_gets_no_more_tries_than_one_after_another(api: Api, network: Network) -> None:
    answers = await asyncio.gather(*(sign_in(api, INTAKE, f"guess number {n}") for n in range(20)))
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 15


# ------------------------------------------------------------------------------------------------
# Password rules
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short pass", "length"),
        ("ines-intake-2024", "personal"),
        ("intake@test.example!", "personal"),
        ("Password2024!", "common"),
        ("qwertyuiop123", "common"),
        ("abcabcabcabcabc", "guessable"),
    ],
)
async def test_change_password_names_the_rule_broken(api: Api, network: Network, password: str, rule: str) -> None:
    token = await api.token(INTAKE)
    body = await ask(api, token, CHANGE_PASSWORD, {"c": PASSWORD, "n": password})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "newPassword", "rule": rule}
    assert error["message"]
    assert (await sign_in(api, INTAKE)).status_code == 200


async def test_change_password_checks_the_current_one_and_signs_out_other_sessions(api: Api, network: Network) -> None:
    here = (await sign_in(api, INTAKE)).json()["token"]
    elsewhere = (await sign_in(api, INTAKE)).json()["token"]
    wrong = await ask(api, here, CHANGE_PASSWORD, {"c": "not my password", "n": "a brand new passphrase"})
    assert wrong["errors"][0]["extensions"]["field"] == "currentPassword"

    assert (await ask(api, here, CHANGE_PASSWORD, {"c": PASSWORD, "n": "a brand new passphrase"}))["data"] == {"changePassword": True}
    assert (await sign_in(api, INTAKE)).status_code == 401
    assert (await sign_in(api, INTAKE, "a brand new passphrase")).status_code == 200
    assert (await ask(api, here))["data"]["viewer"]["email"] == INTAKE
    assert code_of(await ask(api, elsewhere)) == "UNAUTHENTICATED"


def test_the_demo_password_meets_the_rules_for_every_demo_account() -> None:
    assert len(DEMO_PASSWORD) >= MIN_LENGTH
    for account in ACCOUNTS:
        assert password_problem(DEMO_PASSWORD, email=demo_email(account.local_part), name=account.name) is None


def _cli(database_url: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REFERLOOP_ENV": "test", "SECRET_KEY": "x" * 40}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


async def test_the_cli_adds_users_and_sets_passwords_under_the_same_rules(api: Api, settings: Settings, network: Network) -> None:
    weak = await asyncio.to_thread(_cli, settings.database_url, "user", "set-password", INTAKE, stdin="password1\n")
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    done = await asyncio.to_thread(_cli, settings.database_url, "user", "set-password", INTAKE, stdin="lantern orchard rivers\n")
    assert done.returncode == 0, done.stderr
    assert (await sign_in(api, INTAKE, "lantern orchard rivers")).status_code == 200

    added = await asyncio.to_thread(
        _cli,
        settings.database_url,
        "user", "add", "newcomer@test.example", "--name", "Nell Newcomer", "--organization", str(network.pks["food"]), "--role", "PROGRAM_STAFF",
        stdin="copper kettle meadow\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = (await sign_in(api, "newcomer@test.example", "copper kettle meadow")).json()["token"]
    assert (await ask(api, token))["data"]["viewer"]["organization"]["name"] == "Harbor Food Bank"


# ------------------------------------------------------------------------------------------------
# Sessions: sign-out, idle timeout, hard expiry
# ------------------------------------------------------------------------------------------------


async def test_logout_revokes_the_token_server_side(api: Api, network: Network) -> None:
    token = (await sign_in(api, INTAKE)).json()["token"]
    other = (await sign_in(api, INTAKE)).json()["token"]
    out = await api.http.post("/auth/logout", headers=bearer(token))
    assert out.status_code == 200 and out.json() == {"ok": True}
    refused = await ask(api, token)
    assert code_of(refused) == "UNAUTHENTICATED" and "signed out" in refused["errors"][0]["message"]
    again = await api.http.post("/auth/logout", headers=bearer(token))
    assert again.status_code == 401 and again.json()["code"] == "UNAUTHENTICATED"
    # Only that session ended.
    assert (await ask(api, other))["data"]["viewer"]["email"] == INTAKE
    assert (await ask(api, other, "mutation { signOut }"))["data"] == {"signOut": True}
    assert code_of(await ask(api, other)) == "UNAUTHENTICATED"


async def test_a_session_unused_for_the_idle_timeout_ends_and_use_keeps_it(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, session_idle_seconds=2)) as api:
        token = (await sign_in(api, INTAKE)).json()["token"]
        for _ in range(3):  # 3 s of use in all, each request within the 2 s
            await asyncio.sleep(1.0)
            assert (await ask(api, token))["data"]["viewer"]["email"] == INTAKE
        await asyncio.sleep(2.5)
        idle = await ask(api, token)
        assert code_of(idle) == "UNAUTHENTICATED" and "without activity" in idle["errors"][0]["message"]


async def test_a_token_past_its_lifetime_is_refused_however_active(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, token_ttl_seconds=2)) as api:
        token = (await sign_in(api, INTAKE)).json()["token"]
        assert (await ask(api, token))["data"]["viewer"]["email"] == INTAKE
        await asyncio.sleep(2.5)
        expired = await ask(api, token)
        assert code_of(expired) == "UNAUTHENTICATED" and "expired" in expired["errors"][0]["message"]


async def test_a_token_without_a_session_is_refused(api: Api, network: Network) -> None:
    import jwt

    token = await api.token(INTAKE)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["sid"]
    sessionless = jwt.encode(claims, "test-secret-key-for-signing-tokens-000", algorithm="HS256")
    assert code_of(await ask(api, sessionless)) == "UNAUTHENTICATED"


# ------------------------------------------------------------------------------------------------
# Open websockets follow the session and the account
# ------------------------------------------------------------------------------------------------


class Socket:
    """A graphql-transport-ws connection that may carry several subscriptions, by id."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = 0

    @classmethod
    async def open(cls, api: Api, token: str) -> Socket:
        ws = await websockets.connect(f"ws://{api.host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        return cls(ws)

    async def subscribe(self, query: str = CHANGES, variables: dict[str, Any] | None = None) -> str:
        self.ids += 1
        await self.ws.send(json.dumps({"id": str(self.ids), "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}))
        return str(self.ids)

    async def message(self, timeout: float = 5) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "complete":  # the end of a subscription already reported
                continue
            return message

    async def error_codes(self, timeout: float = 5) -> list[str]:
        """The codes of the next errors pushed (as `next` with errors or as `error`)."""
        while True:
            message = await self.message(timeout)
            errors = message["payload"].get("errors") if message["type"] == "next" else message.get("payload")
            if message["type"] in {"next", "error"} and errors:
                return [e.get("extensions", {}).get("code") for e in errors]

    async def close(self) -> None:
        await self.ws.close()


async def _create_pantry_referral(api: Api, network: Network) -> dict[str, Any]:
    created: dict[str, Any] = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    return created


async def test_signing_out_closes_the_tokens_open_subscriptions(api: Api, network: Network) -> None:
    token = (await sign_in(api, INTAKE)).json()["token"]
    socket = await Socket.open(api, token)
    await socket.subscribe()
    await api.http.post("/auth/logout", headers=bearer(token))
    assert await socket.error_codes(timeout=3) == ["UNAUTHENTICATED"]
    # And the socket takes no new subscription under the ended session.
    await socket.subscribe()
    assert await socket.error_codes(timeout=3) == ["UNAUTHENTICATED"]
    await socket.close()


async def test_sessions_ended_elsewhere_close_subscriptions_within_seconds(settings: Settings, network: Network, db: Database) -> None:
    """Another server process revokes a session or disables an account: this one's check (every 2 s) closes the streams."""
    async with serving(replace(settings, viewer_refresh_seconds=Settings.viewer_refresh_seconds)) as api:
        revoked_token = (await sign_in(api, INTAKE)).json()["token"]
        kept_token = (await sign_in(api, NAVIGATOR)).json()["token"]
        revoked, kept = await Socket.open(api, revoked_token), await Socket.open(api, kept_token)
        await revoked.subscribe()
        await kept.subscribe()
        await asyncio.sleep(0.3)  # both subscribed
        async with db.write() as s:
            await s.execute(update(SignInSession).where(SignInSession.user_id == select(User.id).where(User.email == INTAKE).scalar_subquery()).values(revoked_at=datetime.now().astimezone()))
        assert await revoked.error_codes(timeout=4) == ["UNAUTHENTICATED"]
        async with db.write() as s:
            await s.execute(update(User).where(User.email == NAVIGATOR).values(is_active=False))
        assert await kept.error_codes(timeout=4) == ["UNAUTHENTICATED"]
        await revoked.close()
        await kept.close()


async def test_an_expired_token_closes_its_open_subscription(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, token_ttl_seconds=2)) as api:
        socket = await Socket.open(api, (await sign_in(api, INTAKE)).json()["token"])
        await socket.subscribe()
        assert await socket.error_codes(timeout=6) == ["UNAUTHENTICATED"]
        await socket.close()


async def test_after_switching_organization_a_socket_subscribes_as_the_new_one(api: Api, network: Network) -> None:
    both = "both@test.example"
    token = (await sign_in(api, both)).json()["token"]
    socket = await Socket.open(api, token)
    await socket.subscribe()
    assert (await ask(api, token, SWITCH, {"id": network["food"]}))["data"]["switchOrganization"]["organization"]["name"] == "Harbor Food Bank"
    assert await socket.error_codes(timeout=3) == ["UNAUTHENTICATED"]
    # Resubscribing on the same socket (as the dashboard does) streams the food bank's referrals.
    await socket.subscribe()
    await asyncio.sleep(0.3)
    created = await _create_pantry_referral(api, network)
    message = await socket.message()
    assert message["type"] == "next", message
    assert message["payload"]["data"]["referralChanged"]["referral"]["id"] == created["id"]
    await socket.close()


async def test_websockets_per_user_are_capped(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, max_websockets_per_user=3)) as api:
        token = (await sign_in(api, INTAKE)).json()["token"]
        sockets = [await Socket.open(api, token) for _ in range(3)]
        # The fourth is refused, saying why: a close code and a reason naming RATE_LIMITED.
        ws = await websockets.connect(f"ws://{api.host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4429 and (ws.close_reason or "").startswith("RATE_LIMITED")
        # Someone else is not affected, and a closed socket gives its place back.
        other = await Socket.open(api, (await sign_in(api, NAVIGATOR)).json()["token"])
        await sockets.pop().close()
        await asyncio.sleep(0.2)
        sockets.append(await Socket.open(api, token))
        for socket in [*sockets, other]:
            await socket.close()


async def test_subscriptions_per_user_are_capped_across_sockets(settings: Settings, network: Network) -> None:
    async with serving(replace(settings, max_subscriptions_per_user=2)) as api:
        token = (await sign_in(api, INTAKE)).json()["token"]
        first, second = await Socket.open(api, token), await Socket.open(api, token)
        await first.subscribe()
        await second.subscribe()
        await asyncio.sleep(0.3)
        await second.subscribe()
        assert await second.error_codes(timeout=3) == ["RATE_LIMITED"]
        # A closed socket gives its subscription back: the next one is taken, and hears the next change.
        await first.close()
        await asyncio.sleep(0.3)
        taken = await second.subscribe()
        await asyncio.sleep(0.3)
        await _create_pantry_referral(api, network)
        # The socket's first subscription hears it too, in either order.
        pushed = {m["id"]: m for m in [await second.message(), await second.message()]}
        assert taken in pushed and pushed[taken]["type"] == "next" and not pushed[taken]["payload"].get("errors"), pushed
        await second.close()


async def test_a_crowd_of_requests_on_one_stale_session_bumps_it_once(settings: Settings, network: Network) -> None:
    """Tabs reconnecting at once (or a thousand sockets of one account) find the session's last use
    stale together; one of them writes the bump, the others do not queue up to write it again."""
    runtime = Runtime.create(settings)
    try:
        async with runtime.db.write() as s:
            user_id = int(await s.scalar(select(User.id).where(User.email == INTAKE)) or 0)
            row = sessions.new_session(user_id, settings)
            row.last_seen_at = row.last_seen_at - timedelta(minutes=10)
            s.add(row)
        bumps: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE SIGN_IN_SESSIONS"):
                bumps.append(statement)

        event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", record)
        viewers = await asyncio.gather(*(viewer_for_session(runtime, user_id, row.id) for _ in range(20)))
        assert {v.user_id for v in viewers} == {user_id}
        assert len(bumps) == 1
        async with runtime.db.read() as s:
            seen = await s.scalar(select(SignInSession.last_seen_at).where(SignInSession.id == row.id))
        assert seen is not None and seen > row.last_seen_at
    finally:
        await runtime.db.dispose()


# ------------------------------------------------------------------------------------------------
# argon2 runs off the event loop
# ------------------------------------------------------------------------------------------------


async def _push_delay(api: Api, socket: Subscription, referral: dict[str, Any], status: str) -> float:
    """Seconds from the status change's commit (its event's time) to its push reaching the dashboard."""
    await api.gql(UPDATE_STATUS, {"input": {"referralId": referral["id"], "status": status, "expectedVersion": referral["version"]}}, as_=INTAKE)
    while True:
        pushed = (await socket.next(timeout=20))["referralChanged"]
        if pushed["referral"]["id"] == referral["id"] and pushed["referral"]["status"] == status:
            arrived = datetime.now().astimezone()
            referral["version"] = pushed["referral"]["version"]
            return (arrived - datetime.fromisoformat(pushed["at"])).total_seconds()


# Run in a process of its own, as a crowd of browsers would be: the test's own loop then serves only the server.
_CROWD = """
import asyncio, json, sys
import httpx

async def main(host, password, emails):
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=600, limits=httpx.Limits(max_connections=200)) as http:
        tasks = [
            asyncio.create_task(http.post("/auth/login", json={"email": e, "password": password if n % 2 else "wrong wrong wrong"}))
            for n, e in enumerate(emails)
        ]
        await asyncio.sleep(1.0)
        print("sent", flush=True)
        answers = await asyncio.gather(*tasks)
    print(json.dumps(sorted({r.status_code for r in answers})), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
"""


async def _attempts_begun(db: Database, email: str) -> int:
    """Sign-ins for an account without a password that works, counted as each one begins."""
    async with db.read() as s:
        return await s.scalar(select(SignInThrottle.failures).where(SignInThrottle.key == f"account:{email}")) or 0


async def test_a_burst_of_sign_ins_does_not_delay_live_pushes(settings: Settings, network: Network, db: Database) -> None:
    """100 concurrent sign-ins (half with a wrong password) delay a push by at most 100 ms (the issue's bound).

    A round compares the median of 5 pushes during the burst with that of 10 around it. A loop
    blocked by argon2 fails every round by seconds; up to 3 rounds are tried, so that a machine busy
    with other work during one round does not fail the test.
    """
    roomy = replace(settings, sign_in_account_failures=100_000, sign_in_address_failures=100_000)
    emails = [INTAKE, NAVIGATOR, "teammate@test.example", "nobody@test.example"] * 25
    rounds = []
    async with serving(roomy) as api:
        referral = await _create_pantry_referral(api, network)
        statuses = itertools.cycle(["ELIGIBLE", "PENDING"])
        dashboard = await api.subscribe(CHANGES, as_=INTAKE)
        await asyncio.sleep(0.3)
        for _ in range(3):
            quiet = [await _push_delay(api, dashboard, referral, next(statuses)) for _ in range(5)]
            begun = await _attempts_begun(db, "nobody@test.example")
            crowd = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _CROWD, api.host, PASSWORD, *emails, stdout=asyncio.subprocess.PIPE, cwd=ROOT
            )
            assert crowd.stdout is not None
            assert (await asyncio.wait_for(crowd.stdout.readline(), 60)).strip() == b"sent"
            # Measured once every request of the burst has been taken in, while they are being hashed:
            # 100 requests arriving at once cost the loop some work of their own, whatever the hashing.
            for _ in range(600):
                if await _attempts_begun(db, "nobody@test.example") >= begun + 25:
                    break
                await asyncio.sleep(0.1)
            during = [await _push_delay(api, dashboard, referral, next(statuses)) for _ in range(5)]
            still_hashing = crowd.returncode is None
            codes = json.loads(await asyncio.wait_for(crowd.stdout.readline(), 300))
            await crowd.wait()
            quiet += [await _push_delay(api, dashboard, referral, next(statuses)) for _ in range(5)]
            assert codes == [200, 401]
            assert still_hashing, "the burst was over before the pushes were measured: it showed nothing"
            rounds.append((statistics.median(during) - statistics.median(quiet), quiet, during))
            if rounds[-1][0] < 0.100:
                break
        await dashboard.close()
    assert min(delay for delay, _, _ in rounds) < 0.100, rounds


async def test_hostile_tokens_are_refused(api: Api, network: Network) -> None:
    """Probes an attacker tries with a real token in hand: no signature, another user's id, a signed-out session."""
    import jwt

    token = await api.token(INTAKE)
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert code_of(await ask(api, unsigned)) == "UNAUTHENTICATED"
    # The right key's signature over someone else's id with this session: the session is not theirs.
    navigator_token = await api.token(NAVIGATOR)
    navigator_id = jwt.decode(navigator_token, options={"verify_signature": False})["sub"]
    borrowed = jwt.encode({**claims, "sub": navigator_id}, "test-secret-key-for-signing-tokens-000", algorithm="HS256")
    assert code_of(await ask(api, borrowed)) == "UNAUTHENTICATED"
    # Signing out and replaying the token, or a copy with a later expiry, gets nothing.
    await api.http.post("/auth/logout", headers=bearer(token))
    prolonged = jwt.encode({**claims, "exp": claims["exp"] + 3600}, "test-secret-key-for-signing-tokens-000", algorithm="HS256")
    for replay in (token, prolonged):
        assert code_of(await ask(api, replay)) == "UNAUTHENTICATED"
