"""The status links in notification emails: look first, confirm to change, once, live for everyone."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select

from db.engine import Database
from db.notifications import Notification
from db.referrals import ReferralStatus
from db.settings import Settings
from resolvers.notify.tokens import issue_link
from tests.documents import CHANGES, CREATE_REFERRAL, REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.mailboxes import SmtpRecorder, body_text, settings, settled, sms, sms_provider, smtp, smtp_server  # noqa: F401
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
SAM = "seeker@test.example"
PUBLIC = "http://referloop.test"


def link(smtp: SmtpRecorder, to: str, label: str) -> str:
    """The path of the link with that label in the newest email to `to`."""
    text = body_text(smtp.to(to)[-1])
    match = re.search(rf"- {re.escape(label)}: {re.escape(PUBLIC)}(/r/\S+)", text)
    assert match, text
    return match.group(1)


async def test_program_confirms_from_its_email_and_everyone_sees_it_live(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    feed = await api.subscribe(CHANGES, as_=NAVIGATOR)
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    assert (await feed.next())["referralChanged"]["kind"] == "CREATED"
    await settled(db)
    path = link(smtp, f"intake@{network.pks['food']}.example.org", "They're eligible")

    # A mail scanner or link preview fetches the link: a page, and no change.
    page = await api.http.get(path)
    assert page.status_code == 200 and "Confirm: They&#39;re eligible" in page.text and "Maria Lopez" in page.text
    assert '<form method="post"' in page.text
    assert (await api.gql(REFERRAL, {"id": created["id"]}, as_=NAVIGATOR))["referral"]["status"] == "NOT_UPDATED"
    await feed.nothing(0.5)

    smtp.messages.clear()
    confirmed = await api.http.post(path)
    assert confirmed.status_code == 200 and "Thank you" in confirmed.text and "Eligible" in confirmed.text

    pushed = (await feed.next())["referralChanged"]
    assert pushed["kind"] == "STATUS_CHANGED" and pushed["referral"]["status"] == "ELIGIBLE"
    referral = (await api.gql(REFERRAL, {"id": created["id"]}, as_=NAVIGATOR))["referral"]
    assert referral["status"] == "ELIGIBLE" and referral["version"] == 2
    assert referral["history"][-1]["source"] == "EMAIL" and referral["history"][-1]["toStatus"] == "ELIGIBLE"

    # The navigator and the seeker hear about it like any other change.
    await settled(db)
    assert sorted(m["To"] for m in smtp.messages) == ["maria@example.com", NAVIGATOR]
    assert "from an email" in body_text(smtp.to(NAVIGATOR)[0])

    again = await api.http.post(path)
    assert again.status_code == 410 and "already used" in again.text and "Nothing was changed" in again.text
    assert (await api.http.get(path)).status_code == 410
    assert (await api.gql(REFERRAL, {"id": created["id"]}, as_=NAVIGATOR))["referral"]["version"] == 2
    await feed.close()


async def test_seeker_says_they_got_help_from_the_email(api: Api, network: Network, db: Database, smtp: SmtpRecorder) -> None:
    mine = (
        await api.gql(
            CREATE_REFERRAL,
            {"input": {"programId": network["clinic_program"], "consent": True, "contactPreference": "EMAIL"}},
            as_=SAM,
        )
    )["createReferral"]
    await api.gql(UPDATE_STATUS, {"input": {"referralId": mine["id"], "status": "PENDING", "expectedVersion": 1}}, as_="clinic@test.example")
    await settled(db)
    email = smtp.to("sam@example.com")[-1]
    assert email["Subject"] == "Update on your referral to Northside Primary Care: Pending"
    path = link(smtp, "sam@example.com", "I got help")
    feed = await api.subscribe(CHANGES, {"afterSeq": 2}, as_="clinic@test.example")

    assert (await api.http.post(path)).status_code == 200
    pushed = (await feed.next())["referralChanged"]
    assert pushed["referral"]["status"] == "GOT_HELP"
    last = (await api.gql(REFERRAL, {"id": mine["id"]}, as_=SAM))["referral"]["history"][-1]
    assert last == {"fromStatus": "PENDING", "toStatus": "GOT_HELP", "note": None, "changedBy": {"name": "Sam Seeker"}, "source": "EMAIL"}
    await feed.close()


async def test_tampered_and_expired_links_change_nothing(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder, settings: Settings
) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    await settled(db)
    path = link(smtp, "maria@example.com", "I couldn't get help")

    head, _, signature = path.rpartition(".")
    tampered = f"{head}.{signature[:-3]}{'AAA' if signature[-3:] != 'AAA' else 'BBB'}"
    for method in ("GET", "POST"):
        page = await api.http.request(method, tampered)
        assert page.status_code == 400 and "This link doesn&#39;t work" in page.text

    async with db.read() as session:
        to_maria = await session.scalar(select(Notification).where(Notification.address == "maria@example.com"))
    assert to_maria is not None
    old = replace(settings, link_ttl_seconds=-60)
    expired = issue_link(old, notification=to_maria, status=ReferralStatus.COULDNT_GET_HELP, version=1)
    for method in ("GET", "POST"):
        page = await api.http.request(method, f"/r/{expired}")
        assert page.status_code == 410 and "This link has expired" in page.text

    # A link signed with another key, and a sign-in token passed off as a link, are refused too.
    login_token = await api.token(NAVIGATOR)
    assert (await api.http.post(f"/r/{login_token}")).status_code == 400
    other = replace(settings, secret_key="someone-else-entirely-with-a-long-enough-key")
    forged = issue_link(other, notification=to_maria, status=ReferralStatus.GOT_HELP, version=1)
    assert (await api.http.post(f"/r/{forged}")).status_code == 400

    referral = (await api.gql(REFERRAL, {"id": created["id"]}, as_=NAVIGATOR))["referral"]
    assert referral["status"] == "NOT_UPDATED" and len(referral["history"]) == 1


async def test_a_link_from_before_a_later_change_changes_nothing(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    """An old "No capacity" link must not overwrite the Got help set on the dashboard since."""
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    await settled(db)
    old = link(smtp, f"intake@{network.pks['food']}.example.org", "No capacity")
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=NAVIGATOR
    )
    for method in ("GET", "POST"):
        page = await api.http.request(method, old)
        assert page.status_code == 409, page.text
        assert "updated since this email was sent" in page.text and "<strong>Got help</strong>" in page.text
        assert 'href="http://referloop.test/login"' in page.text, "it points to the dashboard instead"
    after = (await api.gql(REFERRAL, {"id": created["id"]}, as_=NAVIGATOR))["referral"]
    assert (after["status"], after["version"], len(after["history"])) == ("GOT_HELP", 2, 2)
