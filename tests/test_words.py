"""One vocabulary: the pages, emails, texts and link pages say the same words, from one table
(resolvers/words.py); emails lead to the referral itself; links follow the address served; the
README names every demo account."""

from __future__ import annotations

import json
import re

import pytest

from db.engine import Database
from db.events import EventKind
from db.notifications import Channel, Notification, RecipientKind
from db.referrals import ReferralStatus
from db.seed import ACCOUNTS, demo_email
from db.settings import ROOT, Settings, public_url_from
from resolvers.notify.channels import Email, Text
from resolvers.notify.messages import PROGRAM_LINK_LABELS, SEEKER_LINK_LABELS, STATUS_LABELS, render
from resolvers.words import STATUS_WORDS
from schema.ids import parse_global_id
from tests.documents import CREATE_REFERRAL, new_seeker_referral
from tests.mailboxes import SmtpRecorder, body_text, settings, settled, sms_provider, smtp, smtp_server  # noqa: F401
from tests.support import Api, Network
from web.cli import WORDS_JSON, words_json

NAVIGATOR = "navigator@test.example"
PUBLIC = "http://referloop.test"
WORDS = "query { statusWords { status label sentence seekerAction programAction } referralKindWords { kind label noun } }"


def test_the_dashboards_copy_of_the_words_is_the_api_table() -> None:
    assert WORDS_JSON.read_text() == words_json(), "web/app/src/lib/words.json is stale: run `make docs`"
    format_js = (ROOT / "web" / "app" / "src" / "lib" / "format.js").read_text()
    assert "import WORDS from './words.json'" in format_js
    # No page keeps a copy of its own: no status's label is spelled out in the dashboards' code.
    app = ROOT / "web" / "app" / "src"
    for path in [*app.rglob("*.svelte"), *app.rglob("*.js")]:
        text = path.read_text()
        for label in ("'No capacity'", "'Not updated yet'", "'Needs client action'", "'Couldn\\'t make contact'"):
            assert label not in text, f"{path.relative_to(ROOT)} spells {label} itself; use statusWords from format.js"


def test_emails_and_link_pages_use_the_table() -> None:
    assert STATUS_LABELS == {s: w.label for s, w in STATUS_WORDS.items()}
    assert set(STATUS_LABELS) == set(ReferralStatus)
    assert SEEKER_LINK_LABELS == {s: w.seeker_action for s, w in STATUS_WORDS.items() if w.seeker_action}
    assert PROGRAM_LINK_LABELS == {s: w.program_action for s, w in STATUS_WORDS.items() if w.program_action}
    # The words the issue found apart: the pages' words are the emails' now.
    assert STATUS_LABELS[ReferralStatus.PENDING] == "Pending" and STATUS_LABELS[ReferralStatus.NO_CAPACITY] == "No capacity"


async def test_the_api_serves_the_words_without_sign_in(api: Api) -> None:
    data = await api.gql(WORDS)
    served = {w["status"]: w for w in data["statusWords"]}
    assert list(served) == [s.name for s in STATUS_WORDS]
    on_disk = json.loads(WORDS_JSON.read_text())["statuses"]
    for status, words in served.items():
        assert {k: v for k, v in words.items() if k != "status"} == on_disk[status]
    assert {k["kind"]: k["noun"] for k in data["referralKindWords"]} == {
        "LIVE": "referral",
        "LOGGED": "logged referral",
        "TRACKING_ONLY": "tracked referral",
    }


async def test_an_email_and_a_text_for_each_status_say_the_apis_words(
    api: Api, network: Network, db: Database, settings: Settings  # noqa: F811
) -> None:
    served = {w["status"]: w["label"] for w in (await api.gql(WORDS))["statusWords"]}
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    _, pk = parse_global_id(created["id"])
    async with db.read() as session:
        for status in ReferralStatus:
            for template, channel, party in (
                ("status_changed_navigator", Channel.EMAIL, RecipientKind.NAVIGATOR),
                ("status_changed_seeker", Channel.SMS, RecipientKind.SEEKER),
            ):
                message = await render(
                    session,
                    settings,
                    Notification(
                        idempotency_key=f"words:{status.name}:{template}",
                        referral_id=pk,
                        event=EventKind.STATUS_CHANGED,
                        template=template,
                        recipient_kind=party,
                        address="someone@example.org" if channel is Channel.EMAIL else "+15555550100",
                        channel=channel,
                        context={"status": status.name, "previous": "NOT_UPDATED", "version": 1, "actor": "Pat"},
                    ),
                )
                if isinstance(message, Email):
                    assert message.subject.endswith(f": {served[status.name]}"), message.subject
                    assert f"To:   {served[status.name]}" in message.text and served["NOT_UPDATED"] in message.text
                    # The email leads to the referral itself, on the navigator's page.
                    assert f"{settings.public_url}/navigator?referral={created['id']}" in message.text
                    assert f'href="{settings.public_url}/navigator?referral={created["id"]}"' in message.html
                else:
                    assert isinstance(message, Text)
                    assert f'is now "{served[status.name]}"' in message.body


async def test_email_links_go_to_the_referral_itself(api: Api, network: Network, db: Database, smtp: SmtpRecorder) -> None:  # noqa: F811
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    await settled(db)
    program_mail = body_text(smtp.to(f"intake@{network.pks['food']}.example.org")[-1])
    assert f"See it in Inbound Referrals: {PUBLIC}/program?referral={created['id']}" in program_mail.replace("\r", "")
    html = body_text(smtp.to(f"intake@{network.pks['food']}.example.org")[-1], "html")
    assert f'href="{PUBLIC}/program?referral={created["id"]}"' in html
    assert f'href="{PUBLIC}/"' not in html  # never the site root
    seeker_mail = body_text(smtp.to("maria@example.com")[-1])
    assert f"{PUBLIC}/seeker?referral={created['id']}" in seeker_mail


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8100"}, "http://127.0.0.1:8100"),
        ({"HOST": "localhost", "PORT": "8100"}, "http://localhost:8100"),
        ({"HOST": "0.0.0.0", "PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"HOST": "::1", "PORT": "9000"}, "http://[::1]:9000"),
        ({"HOST": "localhost", "PORT": "8100", "PUBLIC_URL": "https://referloop.example.org/"}, "https://referloop.example.org"),
    ],
)
def test_public_url_follows_host_and_port_unless_set(env: dict[str, str], expected: str) -> None:
    assert public_url_from(env) == expected


def test_settings_read_public_url_from_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "8100")
    assert Settings.from_env().public_url == "http://127.0.0.1:8100"
    makefile = (ROOT / "Makefile").read_text()
    assert "HOST=$(HOST) PORT=$(PORT) $(BIN)/referloop serve" in makefile


def test_the_readme_names_every_demo_account() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [demo_email(a.local_part) for a in ACCOUNTS if f"`{demo_email(a.local_part)}`" not in readme]
    assert not missing, f"README.md does not list these demo accounts: {missing}"
    rows = re.findall(r"^\| `([^`]+@demo\.referloop\.org)` \| (.+) \|$", readme, flags=re.M)
    assert {email for email, _ in rows} == {demo_email(a.local_part) for a in ACCOUNTS}
    assert all(len(what) > 20 for _, what in rows), "each account says what it shows"
