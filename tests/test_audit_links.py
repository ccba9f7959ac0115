"""The audit of email links: the page read and the confirmed change, as the address the link went to."""

from __future__ import annotations

from sqlalchemy import select

from db.accounts import Role
from db.audit import AuditAction, AuditEntry
from db.engine import Database
from tests.documents import CREATE_REFERRAL, new_seeker_referral
from tests.mailboxes import SmtpRecorder, settings, settled, sms, sms_provider, smtp, smtp_server  # noqa: F401
from tests.support import Api, Network
from tests.test_email_links import NAVIGATOR, link


async def test_an_email_link_is_recorded_as_its_recipient(api: Api, network: Network, db: Database, smtp: SmtpRecorder) -> None:
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
    await settled(db)
    address = f"intake@{network.pks['food']}.example.org"
    path = link(smtp, address, "They're eligible")
    assert (await api.http.get(path)).status_code == 200
    assert (await api.http.post(path)).status_code == 200
    async with db.read() as s:
        rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.operation == "email-link").order_by(AuditEntry.id)))
    assert [(r.action, r.user_id, r.actor_email, r.acting_organization_id, r.acting_role) for r in rows] == [
        (AuditAction.READ, None, address, network.pks["food"], Role.PROGRAM_STAFF),
        (AuditAction.WRITE, None, address, network.pks["food"], Role.PROGRAM_STAFF),
    ]
    assert "NAME" in rows[0].scopes.split(",") and rows[1].scopes == "HISTORY,REFERRALS"
