"""Shared performance measures: `performance(scope, from, to)` and the scopes a viewer may ask about."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import strawberry

from resolvers.coordinated_entry import NotHousedReason as DomainNotHousedReason
from resolvers.performance import measures
from resolvers.performance.measures import Figures, ScopeKind, ScopeOption, ScopeRequest
from schema.context import Info, require_viewer, runtime_of
from schema.coordinated_entry import NotHousedReason
from schema.enums import ReferralStatus
from schema.fields import field
from schema.ids import pk_of, to_global_id

strawberry.enum(ScopeKind, name="PerformanceScopeKind", description="What a set of performance measures is about.")
PerformanceScopeKind = ScopeKind


@strawberry.input(
    description="Exactly one of the four: a program, an organization, a Continuum of Care, or a data sharing agreement "
    "(the referrals between its parties, under the minimum cell size)."
)
class PerformanceScopeInput:
    program_id: strawberry.ID | None = None
    organization_id: strawberry.ID | None = None
    coc_code: str | None = None
    agreement_id: strawberry.ID | None = None


@strawberry.type(description="A program, an organization, a CoC or an agreement whose performance the viewer may see.")
class PerformanceScope:
    kind: PerformanceScopeKind
    id: strawberry.ID = strawberry.field(description="The program's, organization's or agreement's id; for a CoC, its code.")
    name: str
    organization_name: str | None = strawberry.field(default=None, description="A program's organization.")

    @classmethod
    def of(cls, option: ScopeOption) -> PerformanceScope:
        return cls(kind=option.kind, id=_scope_id(option.kind, option.pk, option.coc_code), name=option.name,
                   organization_name=option.organization_name)


def _scope_id(kind: ScopeKind, pk: int, coc_code: str | None) -> strawberry.ID:
    if kind is ScopeKind.COC:
        return strawberry.ID(coc_code or "")
    names = {ScopeKind.PROGRAM: "Program", ScopeKind.ORGANIZATION: "Organization", ScopeKind.AGREEMENT: "DataSharingAgreement"}
    return to_global_id(names[kind], pk)


@strawberry.type(description="How many CE referrals ended without housing for one reason; null when withheld (under the minimum cell size).")
class NotHousedReasonCount:
    reason: NotHousedReason
    count: int | None


@strawberry.type(description="How many referrals made have this status now; null when withheld (under the minimum cell size).")
class PerformanceStatusCount:
    status: ReferralStatus
    count: int | None


@strawberry.type(description="One month of the range: referrals made in it, and how many of those got help and were housed.")
class PerformancePoint:
    period_start: date = strawberry.field(description="The first day of the month (the range may start later).")
    made: int | None
    got_help: int | None
    housed: int | None


@strawberry.type(
    description="Shared performance measures of the live referrals made in a range of days (docs/architecture.md, "
    "“Performance measures”). Shares are of the referrals made, 0 to 1, null when none were made; medians are in days, "
    "null when nothing was measured. For an agreement, counts from 1 to 10 are withheld as null (`suppressed`), with the "
    "shares and medians over them."
)
class Performance:
    figures: strawberry.Private[Figures]

    @strawberry.field
    def scope(self) -> PerformanceScope:
        s = self.figures.scope
        return PerformanceScope(kind=s.kind, id=_scope_id(s.kind, s.pk, s.coc_code), name=s.name)

    @field(name="from")
    def from_(self) -> date:
        return self.figures.start

    @strawberry.field
    def to(self) -> date:
        return self.figures.end

    @field(description="Live referrals to the scope's programs created in the range.")
    def referrals_made(self) -> int | None:
        return self.figures.cell(self.figures.made)

    @field(description="Of those, how many the program answered (moved off NOT_UPDATED, or acknowledged a CE referral).")
    def acknowledged(self) -> int | None:
        return self.figures.cell(self.figures.acknowledged)

    @strawberry.field
    def acknowledged_share(self) -> float | None:
        return self.figures.share(self.figures.acknowledged)

    @field(description="From the referral to the program's first answer.")
    def median_days_to_acknowledge(self) -> float | None:
        return self.figures.median(self.figures.median_days_to_acknowledge, self.figures.acknowledged)

    @field(description="Status GOT_HELP, or CE result 1 (accepted).")
    def got_help(self) -> int | None:
        return self.figures.cell(self.figures.got_help)

    @strawberry.field
    def got_help_share(self) -> float | None:
        return self.figures.share(self.figures.got_help)

    @field(description="In a closed status now: any but NOT_UPDATED, NEEDS_CLIENT_ACTION, PENDING, REFERRED_ELSEWHERE, ELIGIBLE.")
    def resolved(self) -> int | None:
        return self.figures.cell(self.figures.resolved)

    @strawberry.field
    def resolved_share(self) -> float | None:
        return self.figures.share(self.figures.resolved)

    @field(description="From the referral to its first change into a closed status, over the resolved.")
    def median_days_to_resolve(self) -> float | None:
        return self.figures.median(self.figures.median_days_to_resolve, self.figures.resolved)

    @field(description="The person has an enrollment in the referral's program that began on or after the referral's day.")
    def enrolled(self) -> int | None:
        return self.figures.cell(self.figures.enrolled)

    @strawberry.field
    def enrolled_share(self) -> float | None:
        return self.figures.share(self.figures.enrolled)

    @field(description="Such an enrollment has a housing move-in date.")
    def housed(self) -> int | None:
        return self.figures.cell(self.figures.housed)

    @strawberry.field
    def housed_share(self) -> float | None:
        return self.figures.share(self.figures.housed)

    @field(description="From the referral's day to the move-in date, over the housed.")
    def median_days_to_move_in(self) -> float | None:
        return self.figures.median(self.figures.median_days_to_move_in, self.figures.housed)

    @field(description="The referrals made, by the status they have now; every status, zeros included.")
    def by_status(self) -> list[PerformanceStatusCount]:
        return [PerformanceStatusCount(status=s, count=self.figures.cell(n)) for s, n in self.figures.by_status.items()]

    @field(description="CE referrals among them that ended without housing, by the reason recorded; every reason.")
    def by_not_housed_reason(self) -> list[NotHousedReasonCount]:
        counts = self.figures.by_not_housed_reason
        return [NotHousedReasonCount(reason=r, count=self.figures.cell(counts.get(r.value, 0))) for r in DomainNotHousedReason]

    @field(description="Month by month, for charts: every month of the range, zeros included.")
    def series(self) -> list[PerformancePoint]:
        cell = self.figures.cell
        return [PerformancePoint(period_start=p.period_start, made=cell(p.made), got_help=cell(p.got_help), housed=cell(p.housed))
                for p in self.figures.series]

    @field(description="Whether any count was withheld under the minimum cell size (its shares and medians with it).")
    def suppressed(self) -> bool:
        return self.figures.suppressed

    @field(description="Counts below this are withheld (11 for an agreement: figures shared across agencies); null: none are.")
    def minimum_cell_size(self) -> int | None:
        return self.figures.scope.minimum_cell_size


def _request(scope: PerformanceScopeInput) -> ScopeRequest:
    return ScopeRequest(
        program_id=pk_of(scope.program_id, "Program", field="programId") if scope.program_id is not None else None,
        organization_id=(
            pk_of(scope.organization_id, "Organization", field="organizationId") if scope.organization_id is not None else None
        ),
        coc_code=scope.coc_code,
        agreement_id=(
            pk_of(scope.agreement_id, "DataSharingAgreement", field="agreementId") if scope.agreement_id is not None else None
        ),
    )


@strawberry.type
class PerformanceQuery:
    @field(description="Shared performance measures of a program, an organization, a CoC or an agreement over [from, to] (three years at most).")
    async def performance(
        self,
        info: Info,
        scope: PerformanceScopeInput,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> Performance:
        figures = await measures.measure(runtime_of(info), require_viewer(info), _request(scope), start=from_, end=to)
        return Performance(figures=figures)

    @field(description="The programs, organizations, CoC and agreements whose performance measures the viewer may see.")
    async def performance_scopes(self, info: Info) -> list[PerformanceScope]:
        options = await measures.scope_options(runtime_of(info), require_viewer(info))
        return [PerformanceScope.of(o) for o in options]
