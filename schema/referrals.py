"""Referrals: the types every dashboard shows, their inputs, and the live subscription."""

from __future__ import annotations

from typing import TypeAlias

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from db.referrals import GOT_HELP, IN_PROGRESS, Comment, Referral, StatusChange
from db.referrals import ReferralStatus as DomainReferralStatus
from db.seekers import ContactPreference as DomainContactPreference
from resolvers.errors import BadInput, Unauthenticated
from resolvers.live.hub import Delivery, referral_changes
from resolvers.pagination import clamp_first
from resolvers.policy import referrals as policy
from resolvers.referrals import (
    InboundSort as _InboundSort,
    NewReferral,
    PeopleSort,
    ScreenerAnswer,
    add_referral_comment,
    create_referral,
    get_referral,
    inbound_referrals,
    people_im_helping,
    referrals_for_me,
    undo_referral_status,
    update_referral_status,
)
from db.base import utcnow
from resolvers.seekers import NewSeeker
from schema.accounts import PersonType
from schema.connections import Connection
from schema.context import Info, operation_of, require_viewer, runtime_of
from schema.enums import ChangeSource, ContactPreference, ReferralEventKind, ReferralKind, ReferralStatus, StatusGroup
from schema.fields import field, mutation, subscription
from schema.idempotency import IdempotentInput, once_of
from schema.ids import Node, pk_of, to_global_id
from schema.programs import ProgramType
from schema.seekers import SeekerType
from schema.sharing import socket_sink


def _fields(info: Info, referral: Referral) -> frozenset[policy.Field]:
    return policy.visible_fields(require_viewer(info), referral)

# The domain enum, registered as the GraphQL enum (the same class).
strawberry.enum(_InboundSort, description="NEWEST and OLDEST by when it arrived; LAST_ACTIVITY: the latest change first.")
InboundSort: TypeAlias = _InboundSort

@strawberry.type(name="ScreenerAnswer")
class ScreenerAnswerType:
    key: str
    label: str
    value: str


@strawberry.type(name="Comment")
class CommentType:
    model: strawberry.Private[Comment]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("Comment", self.model.id)

    @strawberry.field
    def body(self) -> str:
        return self.model.body

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at

    @strawberry.field
    def author(self) -> PersonType | None:
        return PersonType.from_user(self.model.author)


@strawberry.type(name="StatusChange", description="One entry of a referral's history.")
class StatusChangeType:
    model: strawberry.Private[StatusChange]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("StatusChange", self.model.id)

    @field(description="Null for the entry that created the referral.")
    def from_status(self) -> ReferralStatus | None:
        return self.model.from_status

    @strawberry.field
    def to_status(self) -> ReferralStatus:
        return self.model.to_status

    @strawberry.field
    def note(self) -> str | None:
        return self.model.note

    @strawberry.field
    def at(self) -> datetime:
        return self.model.at

    @strawberry.field
    def changed_by(self) -> PersonType | None:
        return PersonType.from_user(self.model.changed_by)

    @strawberry.field
    def source(self) -> ChangeSource:
        return self.model.source


@strawberry.type(name="Referral")
class ReferralType(Node):
    model: strawberry.Private[Referral]

    @classmethod
    def from_model(cls, referral: Referral) -> ReferralType:
        return cls(id=to_global_id("Referral", referral.id), model=referral)

    @strawberry.field
    def kind(self) -> ReferralKind:
        return self.model.kind

    @strawberry.field
    def status(self) -> ReferralStatus:
        return self.model.status

    @field(description="In progress, got help, or needs further action.")
    def status_group(self) -> StatusGroup:
        if self.model.status in IN_PROGRESS:
            return StatusGroup.IN_PROGRESS
        return StatusGroup.GOT_HELP if self.model.status in GOT_HELP else StatusGroup.NEEDS_FURTHER_ACTION

    @field(description="Send it back as `expectedVersion` when updating the status.")
    def version(self) -> int:
        return self.model.version

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.model.updated_at

    @strawberry.field
    def seeker(self, info: Info) -> SeekerType:
        return SeekerType.from_referral(self.model, _fields(info, self.model))

    @strawberry.field
    def program(self) -> ProgramType:
        return ProgramType.from_model(self.model.program)

    @field(description="Who made the referral; null for a seeker's own.")
    def navigator(self) -> PersonType | None:
        return PersonType.from_user(self.model.navigator)

    @field(description="How the seeker wanted to be reached when referred.")
    def contact_preference(self) -> ContactPreference:
        return self.model.contact_preference

    @field(description="Whether the seeker consented to share their information with the program.")
    def consent(self) -> bool:
        return self.model.consent

    @field(description="True when the seeker chose not to be contacted and will reach out to the program.")
    def seeker_will_reach_out(self, info: Info) -> bool:
        chose_none = self.model.contact_preference is DomainContactPreference.NONE
        return chose_none and policy.Side.PROGRAM in policy.sides(require_viewer(info), self.model)

    @field(description="Empty where the viewer may not see them.")
    def screener_answers(self, info: Info) -> list[ScreenerAnswerType]:
        if policy.Field.SCREENER_ANSWERS not in _fields(info, self.model):
            return []
        return [ScreenerAnswerType(key=a["key"], label=a["label"], value=a["value"]) for a in self.model.screener_answers]

    @field(description="Empty where the viewer may not see them.")
    def comments(self, info: Info) -> list[CommentType]:
        if policy.Field.COMMENTS not in _fields(info, self.model):
            return []
        return [CommentType(model=c) for c in self.model.comments]

    @field(description="Every status change, oldest first; empty where the viewer may not see it.")
    def history(self, info: Info) -> list[StatusChangeType]:
        if policy.Field.HISTORY not in _fields(info, self.model):
            return []
        return [StatusChangeType(model=h) for h in self.model.history]

    @field(description="What the viewer may do to this referral now; dashboards offer exactly this.")
    def viewer_can(self, info: Info) -> ReferralViewerCan:
        viewer = require_viewer(info)
        settable = policy.settable_statuses(viewer, self.model)
        undo = policy.undo_status(viewer, self.model, utcnow())
        return ReferralViewerCan(
            statuses=[s for s in DomainReferralStatus if s in settable],
            comment=policy.may(viewer, policy.Action.COMMENT, self.model),
            undo_status=undo,
            undo_until=policy.undo_deadline(self.model) if undo is not None else None,
        )


@strawberry.type(description="What the viewer may do to one referral.")
class ReferralViewerCan:
    statuses: list[ReferralStatus] = strawberry.field(description="The statuses the viewer may set now, in display order.")
    comment: bool
    undo_status: ReferralStatus | None = strawberry.field(
        description="The status undoReferralStatus would restore: your own latest change, for 30 seconds after it."
    )
    undo_until: datetime | None = strawberry.field(description="Until when undoReferralStatus is allowed.")


@strawberry.type
class ReferralConnection(Connection[ReferralType]):
    pass


LAST_SEQ = "The newest event this page reflects: subscribe with it as `afterSeq` to miss nothing."


@strawberry.type
class ReferralsForMeConnection(Connection[ReferralType]):
    last_seq: int = strawberry.field(description=LAST_SEQ)


@strawberry.type
class PeopleImHelpingConnection(Connection[SeekerType]):
    total_count: int = strawberry.field(description="How many people match the search and filter, on every page.")
    last_seq: int = strawberry.field(description=LAST_SEQ)


strawberry.enum(PeopleSort, description="LAST_ACTIVITY_DESC: most recently active first; NAME: by last name, then first.")


@strawberry.type
class InboundReferralConnection(Connection[ReferralType]):
    not_updated_count: int = strawberry.field(description="Referrals nobody has updated yet, whatever the status filter.")
    total_count: int
    last_seq: int = strawberry.field(description=LAST_SEQ)


@strawberry.type(name="ReferralChange", description="What one event changed, as it happened.")
class ReferralChangeType:
    model: strawberry.Private[Delivery]

    def _change(self) -> dict[str, object]:
        return self.model.event.change if self.model.event else {}

    @field(description="Null for a new referral, and for comments.")
    def from_status(self) -> ReferralStatus | None:
        return self.model.event.statuses()[0] if self.model.event else None

    @field(description="The status it was set to; null for comments.")
    def to_status(self) -> ReferralStatus | None:
        return self.model.event.statuses()[1] if self.model.event else None

    @field(description="The note given with a status change; null where the viewer may not see the history.")
    def note(self, info: Info) -> str | None:
        value = self._change().get("note")
        shown = self.model.referral is not None and policy.Field.HISTORY in _fields(info, self.model.referral)
        return str(value) if value and shown else None

    @field(description="The comment added; null where the viewer may not see comments.")
    def comment(self, info: Info) -> str | None:
        value = self._change().get("comment")
        shown = self.model.referral is not None and policy.Field.COMMENTS in _fields(info, self.model.referral)
        return str(value) if value and shown else None

    @field(description="The referral's version right after this change.")
    def version(self) -> int | None:
        value = self._change().get("version")
        return int(str(value)) if value is not None else None

    @strawberry.field
    def source(self) -> ChangeSource | None:
        return self.model.event.source if self.model.event else None

    @field(description="Who made the change; null for a seeker without an account and for the system.")
    def actor(self) -> PersonType | None:
        return PersonType.from_user(self.model.event.actor) if self.model.event else None


@strawberry.type(name="ReferralEvent")
class ReferralEventType:
    seq: int = strawberry.field(description="Pass the last one seen as `afterSeq` when resubscribing.")
    kind: ReferralEventKind
    at: datetime
    change: ReferralChangeType | None = strawberry.field(description="What happened; null for RESYNC.")
    referral: ReferralType | None = strawberry.field(description="The referral as it is now; null for RESYNC.")
    # Results of executing this event, per audience; see schema/sharing.py.
    shared_results: strawberry.Private[dict[object, object]]

    @classmethod
    def from_delivery(cls, d: Delivery) -> ReferralEventType:
        """One object per delivery, however many subscribers it is pushed to."""
        if "event" not in d.shared:
            d.shared["event"] = cls(
                seq=d.seq,
                kind=ReferralEventKind[d.kind],
                at=d.at,
                change=ReferralChangeType(model=d) if d.event else None,
                referral=ReferralType.from_model(d.referral) if d.referral else None,
                shared_results={},
            )
        event: ReferralEventType = d.shared["event"]
        return event


@strawberry.input
class NewSeekerInput:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


@strawberry.input
class ScreenerAnswerInput:
    key: str
    value: str


@strawberry.input
class CreateReferralInput(IdempotentInput):
    program_id: strawberry.ID
    seeker_id: strawberry.ID | None = None
    seeker: NewSeekerInput | None = strawberry.field(default=None, description="Create a new seeker profile inline.")
    contact_preference: ContactPreference | None = strawberry.field(
        default=None, description="Defaults to the seeker profile's preference."
    )
    consent: bool | None = strawberry.field(default=None, description="Required (true) for live referrals.")
    comment: str | None = None
    screener_answers: list[ScreenerAnswerInput] | None = None
    override_duplicate_reason: str | None = strawberry.field(
        default=None,
        description=(
            "Refer again although this person has an open referral to this program (at most 500 characters; "
            "kept in the new referral's history). Without it such a referral is refused with BAD_USER_INPUT, "
            "`extensions.reason` DUPLICATE and `extensions.duplicateOf` the open referral's id."
        ),
    )


@strawberry.input
class UpdateReferralStatusInput:
    referral_id: strawberry.ID
    status: ReferralStatus
    expected_version: int = strawberry.field(description="The version you last saw; a stale one gives CONFLICT.")
    note: str | None = None


@strawberry.input
class UndoReferralStatusInput:
    referral_id: strawberry.ID
    expected_version: int = strawberry.field(description="The version you last saw; a stale one gives CONFLICT.")


@strawberry.input
class AddReferralCommentInput(IdempotentInput):
    referral_id: strawberry.ID
    body: str


@strawberry.type
class ReferralQuery:
    @strawberry.field
    async def referral(self, info: Info, id: strawberry.ID) -> ReferralType | None:
        viewer = require_viewer(info)
        referral = await get_referral(runtime_of(info), viewer, pk_of(id, "Referral", field="id"))
        return ReferralType.from_model(referral)

    @field(description="The signed-in seeker's own referrals, newest first.")
    async def referrals_for_me(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> ReferralsForMeConnection:
        mine = await referrals_for_me(runtime_of(info), require_viewer(info), first=clamp_first(first, 50), after=after)
        return ReferralsForMeConnection.of(mine.page, ReferralType.from_model, last_seq=mine.last_seq)

    @field(
        description=(
            "The people behind your and your team's referrals, most recently active first. `search` matches "
            "their names word by word (at most 10 words, 200 characters); `open`: true keeps the people with a "
            "referral in progress, false those with none."
        )
    )
    async def people_im_helping(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        open: bool | None = None,
        sort: PeopleSort = PeopleSort.LAST_ACTIVITY_DESC,
    ) -> PeopleImHelpingConnection:
        people = await people_im_helping(
            runtime_of(info),
            require_viewer(info),
            first=clamp_first(first, 50),
            after=after,
            search=search,
            open=open,
            sort=sort,
        )
        return PeopleImHelpingConnection.of(
            people.page,
            lambda p: SeekerType.from_profile(p.profile, referrals=p.referrals),
            last_seq=people.last_seq,
            total_count=people.total_count,
        )

    @field(
        description="Live referrals to your organization's programs, newest first unless `sort` says otherwise; "
        "`search` matches the person's name (every word), at most 10 words and 200 characters."
    )
    async def inbound_referrals(
        self,
        info: Info,
        program_id: strawberry.ID | None = None,
        status: ReferralStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        sort: InboundSort = InboundSort.NEWEST,
    ) -> InboundReferralConnection:
        inbound = await inbound_referrals(
            runtime_of(info),
            require_viewer(info),
            program_id=pk_of(program_id, "Program", field="programId") if program_id else None,
            status=status,
            first=clamp_first(first, 50),
            after=after,
            search=search,
            sort=sort,
        )
        return InboundReferralConnection.of(
            inbound.page,
            ReferralType.from_model,
            not_updated_count=inbound.not_updated_count,
            total_count=inbound.total_count,
            last_seq=inbound.last_seq,
        )


@strawberry.type
class ReferralMutation:
    @mutation(description="Refer a seeker to a program; the kind follows from the program and your site.")
    async def create_referral(self, info: Info, input: CreateReferralInput) -> ReferralType:
        new = NewReferral(
            program_id=pk_of(input.program_id, "Program", field="programId"),
            seeker_id=pk_of(input.seeker_id, "Seeker", field="seekerId") if input.seeker_id else None,
            seeker=NewSeeker(
                first_name=input.seeker.first_name,
                last_name=input.seeker.last_name,
                email=input.seeker.email,
                phone=input.seeker.phone,
            )
            if input.seeker
            else None,
            contact_preference=input.contact_preference,
            consent=input.consent,
            comment=input.comment,
            screener_answers=[ScreenerAnswer(key=a.key, value=a.value) for a in input.screener_answers or []],
            override_duplicate_reason=input.override_duplicate_reason,
        )
        try:
            return ReferralType.from_model(
                await create_referral(runtime_of(info), require_viewer(info), new, request=once_of(info, input))
            )
        except BadInput as error:
            duplicate = error.details.get("duplicateOf")
            if isinstance(duplicate, int):
                error.details["duplicateOf"] = to_global_id("Referral", duplicate)
            raise

    @mutation(
        description=(
            "Take back your own latest status change, within 30 seconds of making it: the referral goes back "
            "to the status it had before (see the policy's undo rule)."
        )
    )
    async def undo_referral_status(self, info: Info, input: UndoReferralStatusInput) -> ReferralType:
        referral = await undo_referral_status(
            runtime_of(info),
            require_viewer(info),
            referral_id=pk_of(input.referral_id, "Referral", field="referralId"),
            expected_version=input.expected_version,
        )
        return ReferralType.from_model(referral)

    @strawberry.mutation
    async def update_referral_status(self, info: Info, input: UpdateReferralStatusInput) -> ReferralType:
        referral = await update_referral_status(
            runtime_of(info),
            require_viewer(info),
            referral_id=pk_of(input.referral_id, "Referral", field="referralId"),
            status=input.status,
            expected_version=input.expected_version,
            note=input.note,
        )
        return ReferralType.from_model(referral)

    @strawberry.mutation
    async def add_referral_comment(self, info: Info, input: AddReferralCommentInput) -> ReferralType:
        referral = await add_referral_comment(
            runtime_of(info),
            require_viewer(info),
            referral_id=pk_of(input.referral_id, "Referral", field="referralId"),
            body=input.body,
            request=once_of(info, input),
        )
        return ReferralType.from_model(referral)


@strawberry.type
class ReferralSubscription:
    @subscription(
        description="Every change to a referral you may see, as it is committed; `afterSeq` replays what you missed."
    )
    async def referral_changed(
        self, info: Info, after_seq: int | None = None, program_id: strawberry.ID | None = None
    ) -> AsyncGenerator[ReferralEventType, None]:
        viewer = info.context.viewer
        if viewer is None:
            raise info.context.auth_error or Unauthenticated("Send your token in connection_init to subscribe.")
        program = pk_of(program_id, "Program", field="programId") if program_id else None
        live = runtime_of(info).live
        operation = operation_of(info)
        # On a websocket the hub sends the live events itself, rendered once per audience (schema/sharing.py).
        sink = socket_sink(info, ReferralEventType.from_delivery)
        async for delivery in referral_changes(
            live, viewer, after_seq=after_seq, program_id=program, operation=operation, sink=sink
        ):
            yield ReferralEventType.from_delivery(delivery)
