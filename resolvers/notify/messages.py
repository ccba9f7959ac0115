"""What each notification says: Jinja2 templates, one per event and audience, in plain language.

Each template in templates/notifications/ has the blocks `subject`, `text`, `html` (inside
layout.html) and, for the seeker, `sms`. Messages are rendered when sent, from the referral as it is
then and the facts of the change fixed when it was planned (`Notification.context`).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.accounts import Role
from db.notifications import Channel, Notification, RecipientKind
from db.programs import Program
from db.referrals import Referral, ReferralStatus
from db.seekers import ContactPreference
from db.settings import Settings
from resolvers.notify.channels import Email, Text
from resolvers.notify.tokens import issue_link, link_url
from resolvers.policy import referrals as policy
from resolvers.viewer import MembershipInfo, Viewer
from resolvers.words import KIND_WORDS, PROGRAM_ACTIONS, SEEKER_ACTIONS, STATUS_WORDS

TEMPLATES = Path(__file__).resolve().parent / "templates" / "notifications"
SMS_LIMIT = 320

# The product's one vocabulary (resolvers/words.py): the pages, emails, texts and link pages agree.
STATUS_LABELS = {status: words.label for status, words in STATUS_WORDS.items()}
SEEKER_LINK_LABELS = SEEKER_ACTIONS
PROGRAM_LINK_LABELS = PROGRAM_ACTIONS
PREFERENCE_LABELS = {
    ContactPreference.EMAIL: "Email",
    ContactPreference.TEXT: "Text message",
    ContactPreference.PHONE: "Phone call",
    ContactPreference.NONE: "They will reach out to you",
}
# Templates whose email offers one-click status links, and to whom.
WITH_LINKS = {"created_seeker", "status_changed_seeker", "created_program"}


def recipient_viewer(party: RecipientKind, referral: Referral, *, user_id: int | None, address: str) -> Viewer:
    """The party a message is written for, as the policy sees it: what it may be shown and offered."""
    if party is RecipientKind.SEEKER:
        return Viewer(user_id=user_id, email=address, name="", role=Role.SEEKER, seeker_id=referral.seeker_id)
    if party is RecipientKind.NAVIGATOR:
        organization, role, team = referral.navigator_organization_id, Role.NAVIGATOR, referral.team_id
        user_id = referral.navigator_id
    else:
        organization, role, team = referral.program_organization_id, Role.PROGRAM_STAFF, None
    acting = (
        MembershipInfo(
            organization_id=organization, organization_name="", coc_id=None, coc_code=None, role=role, team_id=team, site_id=None
        )
        if organization is not None
        else None
    )
    return Viewer(user_id=user_id, email=address, name="", role=role, acting=acting, memberships=(acting,) if acting else ())


def link_choices(recipient: Viewer, party: RecipientKind, referral: Referral) -> list[ReferralStatus]:
    """The one-click statuses a link to `party` offers: those it has words for that the policy lets it set now."""
    labels = SEEKER_LINK_LABELS if party is RecipientKind.SEEKER else PROGRAM_LINK_LABELS
    allowed = policy.settable_statuses(recipient, referral)
    return [status for status in labels if status in allowed]

_loader = FileSystemLoader(str(TEMPLATES))
_html = Environment(loader=_loader, autoescape=select_autoescape(["html", "jinja"]), undefined=StrictUndefined)
_text = Environment(loader=_loader, autoescape=False, trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))


def fit_sms(body: str, limit: int = SMS_LIMIT) -> str:
    """One line, under `limit` characters, cut at a word with an ellipsis when too long."""
    flat = re.sub(r"\s+", " ", body).strip()
    if len(flat) < limit:
        return flat
    cut = flat[: limit - 2].rsplit(" ", 1)[0]
    return cut + "…"


async def _referral(session: AsyncSession, referral_id: int) -> Referral | None:
    return await session.scalar(
        select(Referral)
        .where(Referral.id == referral_id)
        .options(
            joinedload(Referral.seeker),
            joinedload(Referral.program).joinedload(Program.organization),
            joinedload(Referral.navigator),
        )
    )


def _links(
    settings: Settings, notification: Notification, referral: Referral, recipient: Viewer, version: int
) -> list[dict[str, str]]:
    if notification.template not in WITH_LINKS or notification.channel is not Channel.EMAIL:
        return []
    labels = SEEKER_LINK_LABELS if notification.recipient_kind is RecipientKind.SEEKER else PROGRAM_LINK_LABELS
    return [
        {
            "label": labels[status],
            "url": link_url(settings, issue_link(settings, notification=notification, status=status, version=version)),
        }
        for status in link_choices(recipient, notification.recipient_kind, referral)
    ]


# Where each party works on a referral: the page that opens it.
PAGE_OF = {RecipientKind.SEEKER: "/seeker", RecipientKind.NAVIGATOR: "/navigator", RecipientKind.PROGRAM: "/program"}


def referral_global_id(referral_id: int) -> str:
    """The referral's id as the API and the pages name it (schema/ids.py's encoding)."""
    return base64.urlsafe_b64encode(f"Referral:{referral_id}".encode()).decode().rstrip("=")


def referral_page_url(settings: Settings, party: RecipientKind, referral_id: int) -> str:
    """The dashboard page with this referral opened: /program?referral=<id> for the program's staff."""
    return f"{settings.public_url}{PAGE_OF[party]}?referral={referral_global_id(referral_id)}"


def _why(notification: Notification) -> str:
    return {
        RecipientKind.SEEKER: "You asked to be contacted this way. Tell your navigator or the program if you want this to change.",
        RecipientKind.NAVIGATOR: "You made this referral. You can turn off these emails in your notification settings.",
        RecipientKind.PROGRAM: "This address receives the program's referrals.",
    }[notification.recipient_kind]


async def _context(session: AsyncSession, settings: Settings, notification: Notification) -> dict[str, Any] | None:
    base: dict[str, Any] = {
        "dashboard_url": f"{settings.public_url}/",
        "link_days": max(1, settings.link_ttl_seconds // 86400),
        "why": _why(notification),
        "links": [],
        "links_intro": "",
        "digest": False,
    }
    facts = dict(notification.context or {})
    if notification.template == "digest_program":
        program = await session.get(Program, facts["program_id"])
        if program is None:
            return None
        rows = await session.scalars(
            select(Referral)
            .where(Referral.id.in_(facts["referral_ids"]))
            .options(joinedload(Referral.seeker))
            .order_by(Referral.created_at, Referral.id)
        )
        referrals = [
            {"seeker_name": f"{r.seeker.first_name} {r.seeker.last_name}", "created_at": r.created_at.strftime("%b %d, %H:%M UTC")}
            for r in rows.unique()
        ]
        return {**base, "digest": True, "dashboard_url": f"{settings.public_url}/program", "program": program.name, "referrals": referrals}
    assert notification.referral_id is not None
    referral = await _referral(session, notification.referral_id)
    if referral is None:
        return None
    seeker = referral.seeker
    recipient = recipient_viewer(
        notification.recipient_kind, referral, user_id=notification.recipient_user_id, address=notification.address
    )
    shown = policy.visible_fields(recipient, referral)
    show_contact = policy.Field.SEEKER_CONTACT in shown
    # Links are bound to the version this message is about: a later change makes them stale.
    links = _links(settings, notification, referral, recipient, int(facts.get("version") or referral.version))
    status = facts.get("status")
    previous = facts.get("previous")
    return {
        **base,
        **facts,
        "dashboard_url": referral_page_url(settings, notification.recipient_kind, referral.id),
        "links": links,
        "links_intro": "Update the status with one click:"
        if notification.recipient_kind is RecipientKind.PROGRAM
        else "When you know how it went, tell us with one click:",
        "kind": referral.kind.name,
        "kind_noun": KIND_WORDS[referral.kind].noun,
        "program": referral.program.name,
        "organization": referral.program.organization.name,
        "external_url": referral.program.external_url,
        "seeker_first_name": seeker.first_name,
        "seeker_name": f"{seeker.first_name} {seeker.last_name}",
        "seeker_email": seeker.email if show_contact else None,
        "seeker_phone": seeker.phone if show_contact else None,
        "preference_label": PREFERENCE_LABELS[referral.contact_preference],
        "referred_by": referral.navigator.name if referral.navigator else None,
        "screener_answers": (referral.screener_answers or []) if policy.Field.SCREENER_ANSWERS in shown else [],
        "status_label": STATUS_LABELS[ReferralStatus[status]] if status else STATUS_LABELS[referral.status],
        "previous_label": STATUS_LABELS[ReferralStatus[previous]] if previous else "",
        "note": facts.get("note"),
        "comment": facts.get("comment", ""),
        "actor": facts.get("actor") or "Someone",
        "source": facts.get("source"),
    }


async def render(session: AsyncSession, settings: Settings, notification: Notification) -> Email | Text | None:
    """The message to send, or None when what it was about is gone."""
    context = await _context(session, settings, notification)
    if context is None:
        return None
    name = f"{notification.template}.jinja"
    if notification.channel is Channel.SMS:
        return Text(key=notification.idempotency_key, to=notification.address, body=fit_sms(_block(_text.get_template(name), "sms", context)))
    text_template = _text.get_template(name)
    return Email(
        key=notification.idempotency_key,
        to=notification.address,
        subject=" ".join(_block(text_template, "subject", context).split()),
        text=_block(text_template, "text", context).strip() + "\n",
        html=_html.get_template(name).render(context),
    )

