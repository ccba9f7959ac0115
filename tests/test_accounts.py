"""Signing in, tokens on HTTP and websockets, and acting for one organization at a time."""

from __future__ import annotations

import asyncio
import json

import jwt
import websockets
from websockets.typing import Subprotocol

from tests.support import PASSWORD, Api, Network

VIEWER = "{ viewer { email role organization { id name } memberships { organization { id name } role } } }"


async def test_login_gives_a_token_that_identifies_the_viewer(api: Api, network: Network) -> None:
    viewer = (await api.gql(VIEWER, as_="intake@test.example"))["viewer"]
    assert viewer["email"] == "intake@test.example"
    assert viewer["role"] == "PROGRAM_STAFF"
    assert viewer["organization"]["name"] == "Harbor Food Bank"


async def test_wrong_password_and_unknown_email_get_the_same_answer(api: Api, network: Network) -> None:
    wrong = await api.http.post("/auth/login", json={"email": "intake@test.example", "password": "nope"})
    unknown = await api.http.post("/auth/login", json={"email": "nobody@test.example", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "UNAUTHENTICATED"
    malformed = await api.http.post("/auth/login", content=b"not json")
    assert malformed.status_code == 400


async def test_expired_and_tampered_tokens_are_refused(api: Api, network: Network) -> None:
    token = await api.token("intake@test.example")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "1"}, "someone-elses-key-that-is-long-enough-000", algorithm="HS256")
    expired = jwt.encode({**claims, "exp": 1}, "test-secret-key-for-signing-tokens-000", algorithm="HS256")
    for bad, words in ((forged, "not valid"), (expired, "expired")):
        response = await api.http.post("/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {bad}"})
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED" and words in error["message"]


async def test_websocket_needs_a_valid_token_in_connection_init(api: Api, network: Network) -> None:
    async with websockets.connect(f"ws://{api.host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}}))
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4403


async def test_switch_organization_changes_what_the_user_sees(api: Api, network: Network) -> None:
    both = "both@test.example"
    viewer = (await api.gql(VIEWER, as_=both))["viewer"]
    assert {m["organization"]["name"] for m in viewer["memberships"]} == {"Northside Clinic", "Harbor Food Bank"}
    assert viewer["organization"]["name"] == "Northside Clinic"

    switched = await api.gql(
        "mutation($id: ID!) { switchOrganization(organizationId: $id) { organization { name } role } }",
        {"id": network["food"]},
        as_=both,
    )
    assert switched["switchOrganization"] == {"organization": {"name": "Harbor Food Bank"}, "role": "PROGRAM_STAFF"}
    assert (await api.gql(VIEWER, as_=both))["viewer"]["organization"]["name"] == "Harbor Food Bank"

    errors = await api.errors(
        "mutation($id: ID!) { switchOrganization(organizationId: $id) { role } }", {"id": network["navs"]}, as_=both
    )
    assert errors.codes == ["NOT_FOUND"]


async def test_graphiql_is_served_to_browsers(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "<html" in response.text.lower()
