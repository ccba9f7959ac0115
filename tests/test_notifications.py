"""Who is told what, by which channel, through a real SMTP server and a real HTTP SMS provider on loopback."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, update

from db.base import utcnow
from db.engine import Database
from db.notifications import DigestEntry, Notification, NotificationStatus
from db.settings import Settings
from resolvers.notify.delivery import DeliveryWorker, claim, compose_digests
from resolvers.runtime import Runtime
from tests.documents import ADD_COMMENT, CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.mailboxes import (  # noqa: F401 - fixtures
    SMS_FROM,
    SMS_SID,
    SmsRecorder,
    SmtpRecorder,
    body_text,
    settings,
    settled,
    sms,
    sms_provider,
    smtp,
    smtp_server,
)
from tests.support import Api, Network, serve
from web.app import create_app

NAVIGATOR = "navigator@test.example"
TEAMMATE = "teammate@test.example"
OUTREACH = "outreach@test.example"
INTAKE = "intake@test.example"
SEEKER_EMAIL = "maria@example.com"
SEEKER_PHONE = "+12025550178"

KINDS = {
    # kind: (program, who refers, who changes the status)
    "LIVE": ("pantry", NAVIGATOR, INTAKE),
    "LOGGED": ("snap", NAVIGATOR, TEAMMATE),
    "TRACKING_ONLY": ("pantry", OUTREACH, OUTREACH),
}


def expected(kind: str, preference: str, event: str, program_address: str) -> set[tuple[str, str]]:
    """Who is told what (docs/architecture.md, "Notifications"), as a table: (channel, address) of everyone told."""
    if kind == "TRACKING_ONLY" or preference == "NONE":
        return set()
    seeker = {"EMAIL": {("EMAIL", SEEKER_EMAIL)}, "TEXT": {("SMS", SEEKER_PHONE)}, "PHONE": set()}[preference]
    program = {("EMAIL", program_address)} if kind == "LIVE" else set()
    if event == "CREATED":
        return seeker | program
    if event == "STATUS_CHANGED":
        return seeker | {("EMAIL", NAVIGATOR)}
    # A comment by the navigator: the other parties.
    return seeker | program


def received(smtp: SmtpRecorder, sms: SmsRecorder) -> set[tuple[str, str]]:
    return {("EMAIL", m["To"]) for m in smtp.messages} | {("SMS", r.form["To"]) for r in sms.requests}


def counted(smtp: SmtpRecorder, sms: SmsRecorder) -> int:
    return len(smtp.messages) + len(sms.requests)


@pytest.mark.parametrize("preference", ["EMAIL", "TEXT", "PHONE", "NONE"])
@pytest.mark.parametrize("kind", list(KINDS))
async def test_who_is_told_what(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder, sms: SmsRecorder, kind: str, preference: str
) -> None:
    program, referrer, updater = KINDS[kind]
    program_address = f"intake@{network.pks['food']}.example.org"

    created = (
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network[program], contactPreference=preference)}, as_=referrer)
    )["createReferral"]
    assert created["kind"] == kind
    await settled(db)
    assert received(smtp, sms) == expected(kind, preference, "CREATED", program_address)
    assert counted(smtp, sms) == len(expected(kind, preference, "CREATED", program_address))

    smtp.messages.clear()
    sms.requests.clear()
    await api.gql(
        UPDATE_STATUS,
        {"input": {"referralId": created["id"], "status": "PENDING", "note": "Call us Monday", "expectedVersion": 1}},
        as_=updater,
    )
    await settled(db)
    assert received(smtp, sms) == expected(kind, preference, "STATUS_CHANGED", program_address)
    assert counted(smtp, sms) == len(expected(kind, preference, "STATUS_CHANGED", program_address))

    smtp.messages.clear()
    sms.requests.clear()
    await api.gql(ADD_COMMENT, {"input": {"referralId": created["id"], "body": "Bring a photo ID."}}, as_=referrer)
    await settled(db)
    assert received(smtp, sms) == expected(kind, preference, "COMMENT_ADDED", program_address)
    assert counted(smtp, sms) == len(expected(kind, preference, "COMMENT_ADDED", program_address))
    for request in sms.requests:
        assert len(request.form["Body"]) < 320
        assert request.form["From"] == SMS_FROM and "Bring a photo ID." in request.form["Body"]
        assert request.path == f"/2010-04-01/Accounts/{SMS_SID}/Messages.json"


async def test_emails_have_plain_and_html_parts_with_one_click_links(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
    await settled(db)
    [to_seeker] = smtp.to(SEEKER_EMAIL)
    assert to_seeker["Subject"] == "You have been referred to Harbor Pantry"
    assert to_seeker["Message-ID"].endswith("@referloop.test>")
    text = body_text(to_seeker)
    html = body_text(to_seeker, "html")
    assert "They will contact you." in text and "<strong>They will contact you.</strong>" in html
    assert "I got help: http://referloop.test/r/" in text and "I couldn't get help: http://referloop.test/r/" in text
    assert "I don't need this anymore: http://referloop.test/r/" in text, "every status the seeker may set is offered"
    assert html.count('href="http://referloop.test/r/') == 3

    [to_program] = smtp.to(f"intake@{network.pks['food']}.example.org")
    program_text = body_text(to_program)
    assert to_program["Subject"] == "New referral to Harbor Pantry: Maria Lopez"
    assert "Email: maria@example.com" in program_text and "How many people live in the household? 4" in program_text
    assert program_text.count("http://referloop.test/r/") == 6


async def test_text_is_plain_and_short_even_for_a_long_comment(
    api: Api, network: Network, db: Database, sms: SmsRecorder
) -> None:
    created = (
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], contactPreference="TEXT")}, as_=NAVIGATOR)
    )["createReferral"]
    await api.gql(ADD_COMMENT, {"input": {"referralId": created["id"], "body": "Please bring documents. " * 60}}, as_=NAVIGATOR)
    await settled(db)
    bodies = [r.form["Body"] for r in sms.requests]
    assert bodies[0] == "Referloop: You were referred to Harbor Pantry. They will contact you."
    assert len(bodies[1]) < 320 and bodies[1].endswith("…")
    assert {r.form["To"] for r in sms.requests} == {SEEKER_PHONE}


async def test_a_refusing_smtp_server_is_retried_until_it_accepts_then_delivered_once(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    smtp.refuse_next(2)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["clinic_program"], screenerAnswers=[])}, as_=NAVIGATOR)
    counts = await settled(db)
    assert counts == {NotificationStatus.SENT: 2}
    assert smtp.refused == 2
    assert sorted(m["To"] for m in smtp.messages) == sorted([SEEKER_EMAIL, f"intake@{network.pks['clinic']}.example.org"])
    async with db.read() as session:
        attempts = sorted((await session.scalars(select(Notification.attempts))).all())
    assert sum(attempts) == 4


async def test_gives_up_after_the_bound_and_records_why(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder, settings: Settings
) -> None:
    smtp.refuse_next(10)
    await api.gql(
        CREATE_REFERRAL,
        {"input": new_seeker_referral(network["snap"], screenerAnswers=[])},
        as_=NAVIGATOR,
    )
    counts = await settled(db)
    assert counts == {NotificationStatus.FAILED: 1}
    async with db.read() as session:
        failed = await session.scalar(select(Notification))
    assert failed is not None and failed.attempts == settings.notification_max_attempts
    assert "451" in (failed.last_error or "") and "gave up after 4 attempts" in (failed.last_error or "")
    assert smtp.messages == []


async def test_a_permanent_refusal_fails_at_once(api: Api, network: Network, db: Database, smtp: SmtpRecorder) -> None:
    smtp.refuse_next(1, "550 5.1.1 No such user here")
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["snap"], screenerAnswers=[])}, as_=NAVIGATOR)
    await settled(db)
    async with db.read() as session:
        failed = await session.scalar(select(Notification))
    assert failed is not None and failed.status is NotificationStatus.FAILED and failed.attempts == 1
    assert "550" in (failed.last_error or "")


async def test_the_sms_provider_failing_then_accepting_sends_once(
    api: Api, network: Network, db: Database, sms: SmsRecorder
) -> None:
    sms.fail_next = 2
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["snap"], contactPreference="TEXT")}, as_=NAVIGATOR)
    assert await settled(db) == {NotificationStatus.SENT: 1}
    assert len(sms.requests) == 1


async def test_a_crash_between_commit_and_send_still_sends_exactly_once(
    smtp: SmtpRecorder, settings: Settings, network: Network, db: Database
) -> None:
    """The app committed and stopped before sending; a worker then died after claiming. Sent, once."""
    quiet = replace(settings, notifications_worker=False)
    async with serve(create_app(quiet)) as host, Api(host) as api:
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)

    # A worker claims the two messages and dies before sending them.
    async with db.write() as session:
        dead = await claim(session, worker_id="crashed", lease_seconds=30)
    assert len(dead) == 2
    assert smtp.messages == []

    runtime = Runtime.create(quiet)
    try:
        worker = DeliveryWorker(runtime.settings, runtime.db, worker_id="after-restart")
        assert (await worker.run_once()).claimed == 0, "a live lease is respected"
        async with db.write() as session:
            await session.execute(update(Notification).values(lease_until=utcnow()))
        result = await worker.run_once()
        assert (result.claimed, result.sent) == (2, 2)
        assert (await worker.run_once()).claimed == 0
        second = DeliveryWorker(runtime.settings, runtime.db, worker_id="another-process")
        assert (await second.run_once()).claimed == 0
        await worker.stop()
        await second.stop()
    finally:
        await runtime.db.dispose()
    assert sorted(m["To"] for m in smtp.messages) == sorted([SEEKER_EMAIL, f"intake@{network.pks['food']}.example.org"])
    async with db.read() as session:
        rows = (await session.scalars(select(Notification))).all()
    assert {(r.status, r.attempts, r.claimed_by) for r in rows} == {(NotificationStatus.SENT, 2, "after-restart")}


async def test_a_worker_that_died_after_the_server_accepted_resends_with_the_same_message_id(
    smtp: SmtpRecorder, network: Network, db: Database, api: Api
) -> None:
    """The one window where a copy can go twice: it carries the same Message-ID, so it can be dropped."""
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["snap"], screenerAnswers=[])}, as_=NAVIGATOR)
    await settled(db)
    [first] = smtp.messages
    async with db.write() as session:
        # As if the worker died after the server accepted, before recording SENT; its lease runs out.
        await session.execute(
            update(Notification).values(status=NotificationStatus.SENDING, lease_until=utcnow(), claimed_by="died")
        )
    assert await settled(db) == {NotificationStatus.SENT: 1}
    assert len(smtp.messages) == 2
    assert {m["Message-ID"] for m in smtp.messages} == {first["Message-ID"]}


async def test_muted_email_is_not_sent_and_kept_as_suppressed(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    settings_doc = """
    mutation Mute($input: UpdateNotificationSettingsInput!) {
      updateNotificationSettings(input: $input) { mutedEmailEvents }
    }"""
    muted = (await api.gql(settings_doc, {"input": {"mutedEmailEvents": ["STATUS_CHANGED"]}}, as_=NAVIGATOR))
    assert muted["updateNotificationSettings"]["mutedEmailEvents"] == ["STATUS_CHANGED"]
    mine = await api.gql("{ notificationSettings { mutedEmailEvents } }", as_=NAVIGATOR)
    assert mine["notificationSettings"]["mutedEmailEvents"] == ["STATUS_CHANGED"]

    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    await settled(db)
    smtp.messages.clear()
    await api.gql(UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "ELIGIBLE", "expectedVersion": 1}}, as_=INTAKE)
    counts = await settled(db)
    assert [m["To"] for m in smtp.messages] == [SEEKER_EMAIL]
    assert counts[NotificationStatus.SUPPRESSED] == 1


async def test_a_busy_program_gets_at_most_one_digest_an_hour(
    api: Api, network: Network, db: Database, smtp: SmtpRecorder
) -> None:
    program_address = f"intake@{network.pks['food']}.example.org"
    digest_doc = """
    mutation Digest($input: UpdateProgramNotificationSettingsInput!) {
      updateProgramNotificationSettings(input: $input) { programId hourlyDigest }
    }"""
    refused = await api.errors(digest_doc, {"input": {"programId": network["pantry"], "hourlyDigest": True}}, as_=NAVIGATOR)
    assert refused.codes == ["FORBIDDEN"]
    turned_on = await api.gql(digest_doc, {"input": {"programId": network["pantry"], "hourlyDigest": True}}, as_=INTAKE)
    assert turned_on["updateProgramNotificationSettings"]["hourlyDigest"] is True

    for first_name in ("Ana", "Ben", "Cy"):
        seeker = {"firstName": first_name, "lastName": "Doe", "email": f"{first_name.lower()}@example.com"}
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=seeker)}, as_=NAVIGATOR)
    await settled(db)
    assert smtp.to(program_address) == [], "no email per referral"
    assert len(smtp.messages) == 3, "the seekers are still told at once"

    async with db.write() as session:
        assert await compose_digests(session, interval_seconds=3600) == 1
    async with db.write() as session:
        assert await compose_digests(session, interval_seconds=3600) == 0
    await settled(db)
    [digest] = smtp.to(program_address)
    assert digest["Subject"] == "3 new referrals to Harbor Pantry"
    text = body_text(digest)
    assert all(f"{name} Doe" in text for name in ("Ana", "Ben", "Cy"))

    seeker = {"firstName": "Dee", "lastName": "Doe", "email": "dee@example.com"}
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=seeker)}, as_=NAVIGATOR)
    async with db.write() as session:
        assert await compose_digests(session, interval_seconds=3600) == 0, "within the hour: it waits"
        waiting = (await session.scalars(select(DigestEntry).where(DigestEntry.notification_id.is_(None)))).all()
    assert [w.address for w in waiting] == [program_address]
