"""GraphQL over HTTP (the GraphQL Foundation's draft spec): media types, Accept, and status codes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from schema.ids import to_global_id
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SPEC_CLIENT = f"{GRAPHQL_RESPONSE}, {JSON};q=0.9"  # what the spec tells clients to send
PROGRAM = "query($id: ID!) { program(id: $id) { id name } }"
COSTLY = (
    "query { peopleImHelping(first: 100) { edges { node { referrals(first: 100) { edges { node {"
    " history { id } comments { id } seeker { id } } } } } } } }"
)


async def post(api: Api, body: Any, *, accept: str | None = SPEC_CLIENT, as_: str | None = None, raw: bytes | None = None) -> httpx.Response:
    headers = {"content-type": JSON}
    if accept is not None:
        headers["accept"] = accept
    if as_:
        headers["authorization"] = f"Bearer {await api.token(as_)}"
    content = raw if raw is not None else json.dumps(body).encode()
    request = api.http.build_request("POST", "/graphql", content=content, headers=headers)
    if accept is None:
        del request.headers["accept"]
    return await api.http.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def codes(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "data" not in body, f"a request error has no data entry: {body}"
    return [e["extensions"]["code"] for e in body["errors"]]


async def test_a_client_asking_for_graphql_response_json_gets_it(api: Api, network: Network) -> None:
    response = await post(api, {"query": PROGRAM, "variables": {"id": network["pantry"]}})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"program": {"id": network["pantry"], "name": "Harbor Pantry"}}}


# Request errors: nothing was executed, so the answer has no `data`, and its status says why.
REQUEST_ERRORS = {
    "a document that does not parse": ({"query": "{ viewer { id "}, 400, ["GRAPHQL_PARSE_FAILED"]),
    "too many tokens": ({"query": "{ " + "__typename " * 5000 + "}"}, 400, ["GRAPHQL_PARSE_FAILED"]),
    "a document that does not validate": ({"query": "{ viewer { nope } }"}, 422, ["GRAPHQL_VALIDATION_FAILED"]),
    "a fragment cycle": ({"query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}, 422, ["GRAPHQL_VALIDATION_FAILED"]),
    "a variable of the wrong type": ({"query": PROGRAM, "variables": {"id": 5.5}}, 422, ["BAD_USER_INPUT"]),
    "a required variable missing": ({"query": PROGRAM, "variables": {}}, 422, ["BAD_USER_INPUT"]),
    "an operation name that is not in the document": ({"query": "query A { __typename }", "operationName": "B"}, 422, None),
}


async def test_a_request_error_has_its_status_and_no_data(api: Api, network: Network) -> None:
    # One server for every case (each is a few requests): cases in a loop, named in the assertions.
    for case, (body, status, expected) in REQUEST_ERRORS.items():
        for accept in (SPEC_CLIENT, GRAPHQL_RESPONSE, JSON, "*/*", None):
            response = await post(api, body, accept=accept)
            assert response.status_code == status, (case, accept, response.status_code, response.text[:300])
            # Not a success: the body says it is a GraphQL response whatever the client asked for (the spec's rule).
            assert media_type(response) == GRAPHQL_RESPONSE, (case, accept)
            found = codes(response)
            if expected is not None:
                assert found == expected, (case, accept, found)


async def test_an_operation_over_the_viewers_budget_is_422_and_signed_out_401(api: Api, network: Network) -> None:
    response = await post(api, {"query": COSTLY}, as_=NAVIGATOR)
    assert response.status_code == 422 and codes(response) == ["QUERY_TOO_COSTLY"]
    signed_out = await post(api, {"query": COSTLY})
    assert signed_out.status_code == 401 and codes(signed_out) == ["UNAUTHENTICATED"]
    assert signed_out.headers["www-authenticate"].startswith("Bearer")


# Not GraphQL-over-HTTP requests at all.
MALFORMED = {
    "not JSON": (b"{\"query\":", 400),
    "invalid UTF-8": (b'{"query": "\xff\xfe"}', 400),
    "a string": (b'"{ __typename }"', 422),
    "a number": (b"5", 422),
    "null": (b"null", 422),
    "a list (no batching)": (b'[{"query": "{ __typename }"}]', 422),
    "no query": (b'{"qeury": "{ __typename }"}', 422),
    "a query that is a number": (b'{"query": 5}', 422),
    "variables that are a list": (b'{"query": "{ __typename }", "variables": [7]}', 422),
    "an operation name that is a number": (b'{"query": "{ __typename }", "operationName": 5}', 422),
    "extensions that are a string": (b'{"query": "{ __typename }", "extensions": "x"}', 422),
}


async def test_a_malformed_request_is_4xx_with_a_coded_error(api: Api, network: Network) -> None:
    for case, (raw, status) in MALFORMED.items():
        for accept in (SPEC_CLIENT, JSON):
            response = await post(api, None, raw=raw, accept=accept)
            assert response.status_code == status, (case, accept, response.status_code, response.text[:300])
            assert codes(response) == ["BAD_USER_INPUT"], case
            assert media_type(response) == GRAPHQL_RESPONSE, case
    assert (await api.gql("{ __typename }")) == {"__typename": "Query"}


async def test_field_errors_are_200_once_execution_started(api: Api, network: Network) -> None:
    missing = {"query": PROGRAM, "variables": {"id": to_global_id("Program", 2**31 - 1)}}
    forbidden = {"query": "{ viewer { id } inboundReferrals { edges { node { id } } } }"}
    for accept, expected_type in ((SPEC_CLIENT, GRAPHQL_RESPONSE), (JSON, JSON), ("*/*", JSON), (None, JSON)):
        for body in (missing, forbidden):
            response = await post(api, body, accept=accept, as_=NAVIGATOR)
            assert response.status_code == 200, (accept, response.text[:300])
            assert media_type(response) == expected_type
            answer = response.json()
            assert "data" in answer and answer["errors"], answer  # `data` may be null: execution started
    assert (await post(api, missing, as_=NAVIGATOR)).json()["data"] is None


async def test_the_highest_priority_media_type_wins(api: Api, network: Network) -> None:
    query = {"query": "{ __typename }"}
    assert media_type(await post(api, query, accept=f"{JSON}, {GRAPHQL_RESPONSE}")) == JSON
    assert media_type(await post(api, query, accept=f"{GRAPHQL_RESPONSE}, {JSON}")) == GRAPHQL_RESPONSE
    assert media_type(await post(api, query, accept=f"{GRAPHQL_RESPONSE};q=0.5, {JSON}")) == JSON
    assert media_type(await post(api, query, accept="application/*")) == JSON
    assert media_type(await post(api, query, accept=f"text/html, {GRAPHQL_RESPONSE};charset=utf-8")) == GRAPHQL_RESPONSE


async def test_an_accept_we_cannot_satisfy_is_406(api: Api, network: Network) -> None:
    for accept in ("text/plain", "text/html", "application/xml, image/*", f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0"):
        response = await post(api, {"query": "{ __typename }"}, accept=accept)
        assert response.status_code == 406, (accept, response.text)
        assert media_type(response) == JSON and response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_unsupported_content_type_is_415(api: Api, network: Network) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"accept": SPEC_CLIENT} | ({"content-type": content_type} if content_type else {})
        response = await api.http.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
        assert response.status_code == 415, (content_type, response.text)
    charset = await api.http.post("/graphql", content=b'{"query": "{ __typename }"}', headers={"content-type": "application/json; charset=utf-8"})
    assert charset.status_code == 200


async def test_get_runs_queries_and_refuses_mutations_with_405(api: Api, network: Network) -> None:
    query = await api.http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": GRAPHQL_RESPONSE})
    assert query.status_code == 200 and query.json() == {"data": {"__typename": "Query"}}
    mutation = "mutation { switchOrganization(organizationId: \"x\") { role } }"
    refused = await api.http.get("/graphql", params={"query": mutation}, headers={"accept": GRAPHQL_RESPONSE})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert codes(refused) == ["BAD_USER_INPUT"]
    no_query = await api.http.get("/graphql", headers={"accept": GRAPHQL_RESPONSE})
    assert no_query.status_code == 422 and codes(no_query) == ["BAD_USER_INPUT"]
    bad_variables = await api.http.get("/graphql", params={"query": "{ __typename }", "variables": "{"}, headers={"accept": GRAPHQL_RESPONSE})
    assert bad_variables.status_code == 400


async def test_other_methods_are_405_with_allow(api: Api, network: Network) -> None:
    for method in ("HEAD", "PUT", "DELETE"):
        response = await api.http.request(method, "/graphql", headers={"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 405 and set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}, method


async def test_a_websocket_message_that_is_not_an_object_closes_the_socket_as_invalid(api: Api, network: Network) -> None:
    for message in ("[]", '"connection_init"', "5"):
        async with websockets.connect(f"ws://{api.host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send(message)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400, message


async def test_a_subscription_over_http_is_refused_with_a_coded_error(api: Api, network: Network) -> None:
    response = await post(api, {"query": "subscription { referralChanged { seq } }"}, as_=NAVIGATOR)
    assert response.status_code == 400 and "subscription" in response.text.lower()
    assert codes(response) == ["BAD_USER_INPUT"]
