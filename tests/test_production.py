"""Production mode (REFERLOOP_ENV=production), and the security headers every response carries in every mode."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from db.accounts import Role
from db.engine import Database
from db.settings import Settings
from tests.support import Api, Network, add_member, serve
from web.app import create_app

NAVIGATOR = "navigator@test.example"
ADMIN = "admin@test.example"
KEY = secrets.token_urlsafe(48)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Referral") { fields { name } } }'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, in production: the `api` and `server` of this module run as deployed."""
    return dataclasses.replace(settings, environment="production", secret_key=KEY)


@pytest.fixture
async def development(settings: Settings, network: Network) -> AsyncIterator[Api]:
    """The same database served in development, to show what production turns off."""
    async with serve(create_app(dataclasses.replace(settings, environment="development"))) as host, Api(host) as client:
        yield client


@pytest.fixture
async def admin(db: Database, network: Network) -> str:
    return await add_member(db, ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN)


# --- What production turns off -------------------------------------------------------------------


async def test_graphiql_is_not_served_in_production(api: Api, development: Api) -> None:
    for accept in ("text/html", BROWSER_ACCEPT):
        response = await api.http.get("/graphql", headers={"accept": accept})
        assert response.status_code != 200 and "graphiql" not in response.text.lower(), (accept, response.text[:200])
    assert (await api.http.get("/graphql", headers={"accept": "text/html"})).status_code == 406
    ide = await development.http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_introspection_is_refused_in_production_whoever_asks(api: Api, admin: str, development: Api) -> None:
    for document in (SCHEMA, TYPE, "query { viewer { id } referral: __type(name: \"Referral\") { name } }"):
        for who in (None, NAVIGATOR, admin):
            body = await api.raw(document, as_=who)
            assert "data" not in body, body
            assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}, body
            assert "introspection" in body["errors"][0]["message"].lower()
    # __typename is not introspection: clients (and caches) rely on it.
    assert await api.gql("{ __typename }") == {"__typename": "Query"}
    assert (await development.gql(SCHEMA)) == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_refused_once_is_refused_after_development_cached_it(api: Api, development: Api) -> None:
    # Both servers share this process's document cache: what development validated must not let it through.
    assert await development.gql(TYPE)
    body = await api.raw(TYPE)
    assert "data" not in body and {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


MISTAKES = {
    "a field": ("{ viewr { id } }", {}, "Did you mean 'viewer'?"),
    "an enum literal": ("{ programs(category: FOD) { edges { node { id } } } }", {}, "Did you mean the enum value 'FOOD'?"),
    "an enum variable": (
        "query($c: ProgramCategory) { programs(category: $c) { edges { node { id } } } }",
        {"c": "FOD"},
        "Did you mean the enum value 'FOOD'?",
    ),
    "an argument": ("{ programs(serch: \"food\") { edges { node { id } } } }", {}, "Did you mean 'search'?"),
    "a type": ("query($c: ProgramCategori) { programs(category: $c) { edges { node { id } } } }", {}, "Did you mean 'ProgramCategory'"),
}


async def test_production_suggests_no_names(api: Api, development: Api) -> None:
    for mistake, (document, variables, suggestion) in MISTAKES.items():
        told = await development.errors(document, variables)
        assert any(suggestion in e["message"] for e in told.errors), (mistake, told.errors)
        refused = await api.errors(document, variables)
        assert refused.errors and not any("Did you mean" in e["message"] for e in refused.errors), (mistake, refused.errors)
        assert set(refused.codes) == set(told.codes), mistake
    # The other way round: what production refused first (and the document cache kept) still
    # tells development what it meant.
    first = "{ programz { edges { node { id } } } }"
    assert not any("Did you mean" in e["message"] for e in (await api.errors(first)).errors)
    assert any("Did you mean 'program'" in e["message"] for e in (await development.errors(first)).errors)


async def test_healthz_says_only_ok_in_production(api: Api, development: Api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}
    # Development keeps the figures the browser tests and benchmarks read.
    assert {"ok", "lastSeq", "subscribers"} <= set((await development.http.get("/healthz")).json())


# --- The secret key ------------------------------------------------------------------------------

WEAK_KEYS = {
    "missing": "",
    "short": "s3cr3t-but-only-31-bytes-long!!",
    "the test suite's": "test-secret-key-for-signing-tokens-000",
    "the benchmarks'": "referloop-bench-secret-key-not-for-production-0123456789",
    "one repeated character": "x" * 64,
    "a placeholder": "change-me-change-me-change-me-change-me",
}


@pytest.mark.parametrize("key", WEAK_KEYS, ids=list(WEAK_KEYS))
def test_production_refuses_to_start_without_a_strong_secret_key(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERLOOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", WEAK_KEYS[key])
    with pytest.raises(RuntimeError, match="SECRET_KEY") as refused:
        Settings.from_env()
    assert "secrets.token_urlsafe" in str(refused.value)  # says how to make a good one
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Settings(environment="production", secret_key=WEAK_KEYS[key]))


def test_a_strong_secret_key_starts_production_and_development_stays_lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERLOOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", KEY)
    assert Settings.from_env().secret_key == KEY
    monkeypatch.setenv("REFERLOOP_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "dev")
    assert Settings.from_env().secret_key == "dev"


# --- Security headers ----------------------------------------------------------------------------

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"no CSP on {response.request.method} {response.request.url.path} ({response.status_code})"
    directives = {}
    for part in header.split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def _check(response: httpx.Response) -> dict[str, list[str]]:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert "strict-transport-security" not in response.headers, where  # plain HTTP
    policy = _policy(response)
    assert policy.get("frame-ancestors") == ["'none'"], (where, policy)
    return policy


async def _responses(api: Api) -> list[httpx.Response]:
    http = api.http
    token = await api.token(NAVIGATOR)
    return [
        await http.get("/"),
        await http.get("/program"),
        await http.get("/assets/missing-0000.js"),
        await http.post("/nowhere"),
        await http.get("/healthz"),
        await http.post("/graphql", json={"query": "{ __typename }"}),
        await http.post("/graphql", json={"query": "{ nope }"}, headers={"accept": "application/graphql-response+json"}),
        await http.post("/graphql", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"}),
        await http.get("/graphql?query={__typename}"),
        await http.post("/auth/login", json={"email": NAVIGATOR, "password": "wrong"}),
        await http.post("/auth/login", content=b"[]"),
        await http.get("/exports/hmis-csv?coc=XX-500&from=2026-01-01&to=2026-12-31"),
        await http.get("/exports/hmis-csv?coc=XX-500&from=2026-01-01&to=2026-12-31", headers={"authorization": f"Bearer {token}"}),
        await http.get("/r/not-a-token"),
        await http.post("/r/not-a-token"),
    ]


async def test_every_response_carries_the_security_headers(api: Api, development: Api) -> None:
    for client in (api, development):
        responses = await _responses(client)
        assert {r.status_code for r in responses} >= {200, 400, 401, 404, 405, 413}, [r.status_code for r in responses]
        for response in responses:
            _check(response)


async def test_the_dashboards_policy_allows_only_their_own_files(api: Api, network: Network) -> None:
    response = await api.http.get("/navigator")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], policy
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values), policy
    # The API answers are never documents: nothing at all may load from them.
    assert _policy(await api.http.post("/graphql", json={"query": "{ __typename }"}))["default-src"] == ["'none'"]


async def test_the_status_link_page_allows_its_own_stylesheet_by_hash(api: Api, network: Network) -> None:
    page = await api.http.get("/r/not-a-token")
    assert page.status_code == 400 and "<style>" in page.text
    policy = _check(page)
    assert policy["default-src"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert policy["style-src"] and all(v.startswith("'sha256-") for v in policy["style-src"]), policy
    assert page.headers["cache-control"] == "no-store"


async def test_graphiql_has_its_own_policy_in_development(development: Api) -> None:
    ide = await development.http.get("/graphql", headers={"accept": "text/html"})
    policy = _check(ide)
    assert "'self'" in policy["connect-src"] and policy["frame-ancestors"] == ["'none'"]
    # It loads its scripts from a CDN; that is allowed here only.
    assert any(source.startswith("https://") for source in policy["script-src"]), policy


async def _hsts(host: str, headers: dict[str, str]) -> str | None:
    async with httpx.AsyncClient(base_url=f"http://{host}") as http:
        hsts: str | None = (await http.get("/healthz", headers=headers)).headers.get("strict-transport-security")
        return hsts


async def test_hsts_only_behind_tls_as_a_trusted_proxy_reports_it(settings: Settings, network: Network) -> None:
    app = create_app(settings)
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}
    # uvicorn --proxy-headers --forwarded-allow-ips=127.0.0.1: the proxy on this machine is believed.
    async with serve(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as host:
        assert await _hsts(host, {}) is None
        hsts = await _hsts(host, forwarded)
        assert hsts is not None and "max-age=31536000" in hsts
    # Anyone else claiming TLS is not.
    async with serve(app, proxy_headers=True, forwarded_allow_ips="192.0.2.1") as host:
        assert await _hsts(host, forwarded) is None
    async with serve(app, proxy_headers=False) as host:
        assert await _hsts(host, forwarded) is None
