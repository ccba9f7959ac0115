"""Shared performance measures of a program, an organization or a CoC over a range of days, in SQL.

docs/architecture.md ("Performance measures") defines each figure. In short: the referrals *made*
are the live referrals to the scope's programs created in the range; each is then followed to
wherever it is now (acknowledged, got help, resolved, enrolled, housed), however late that was.

Every figure is an aggregate the database computes, in one statement over one common table of the
referrals made (`referrals_made`), whatever their number; one more finds the scope. Nothing is
loaded row by row.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.selectable import CTE

from db import hud
from db.accounts import ContinuumOfCare, Membership, Organization, Role
from db.base import utcnow
from db.consent import AgreementParty, DataSharingAgreement
from db.coordinated_entry import CeEvent
from db.enrollments import Enrollment
from db.programs import Program
from db.referrals import IN_PROGRESS, ChangeSource, Referral, ReferralKind, ReferralStatus, StatusChange
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.performance.sql import dates_between, day_of, days_between, earliest, median, month_of
from resolvers.policy import capabilities
from resolvers.policy import referrals as policy
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer

# The dashboards' own grouping (db.referrals): whatever is not in progress is closed, "got help" or
# "needs further action". REFERRED_ELSEWHERE stays in progress there, and so it does here.
CLOSED = frozenset(ReferralStatus) - IN_PROGRESS
# Statuses a seeker's one-click email links offer (resolvers.policy.referrals.SEEKER_STATUSES): an
# email change without an author to one of them may be the seeker's, so it is not the program's answer.
SEEKER_STATUSES = policy.SEEKER_STATUSES
MAX_RANGE_DAYS = 3 * 365 + 1  # three years, a leap day included
COUNTED = (policy.Action.READ, policy.Action.SHOW_ON_WALL)


class ScopeKind(enum.Enum):
    PROGRAM = "PROGRAM"
    ORGANIZATION = "ORGANIZATION"
    COC = "COC"
    AGREEMENT = "AGREEMENT"


# The common small-cell rule for figures shared across agencies: a count from 1 to 10 is withheld.
MINIMUM_CELL_SIZE = 11


@dataclass(frozen=True)
class ScopeRequest:
    """What the caller asked about: exactly one of the four is given."""

    program_id: int | None = None
    organization_id: int | None = None
    coc_code: str | None = None
    agreement_id: int | None = None


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    pk: int
    name: str
    coc_code: str | None
    # The referrals to the scope's programs, as SQL.
    where: ColumnElement[bool]
    # Counts from 1 to this less one are withheld (an agreement's figures); None: every count shown.
    minimum_cell_size: int | None = None


@dataclass(frozen=True)
class Point:
    period_start: date
    made: int
    got_help: int
    housed: int


@dataclass(frozen=True)
class Figures:
    scope: Scope
    start: date
    end: date
    made: int
    acknowledged: int
    got_help: int
    resolved: int
    enrolled: int
    housed: int
    median_days_to_acknowledge: float | None
    median_days_to_resolve: float | None
    median_days_to_move_in: float | None
    by_status: dict[ReferralStatus, int]
    by_not_housed_reason: dict[str, int]
    series: list[Point]

    def share(self, count: int) -> float | None:
        """`count` as a share of the referrals made; null when none were made (0/0 is no figure) or either is withheld."""
        if self.cell(count) is None or self.cell(self.made) is None:
            return None
        return count / self.made if self.made else None

    def cell(self, count: int) -> int | None:
        """The count as shown: null when the scope has a minimum cell size and 0 < count < it."""
        floor = self.scope.minimum_cell_size
        return None if floor is not None and 0 < count < floor else count

    def median(self, value: float | None, over: int) -> float | None:
        """A median over `over` referrals, withheld with that count."""
        return None if self.cell(over) is None else value

    @property
    def suppressed(self) -> bool:
        """Whether any count of these figures was withheld."""
        counts = [self.made, self.acknowledged, self.got_help, self.resolved, self.enrolled, self.housed,
                  *self.by_status.values(), *self.by_not_housed_reason.values(),
                  *(n for p in self.series for n in (p.made, p.got_help, p.housed))]
        return any(self.cell(n) is None for n in counts)


def check_range(start: date, end: date, *, today: date | None = None) -> None:
    today = today or utcnow().date()
    if start > end:
        raise BadInput("The range starts after it ends: give `from` on or before `to`.", field="from")
    if end > today:
        raise BadInput("The range cannot end in the future: give `to` on or before today.", field="to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadInput(f"The range is too long: {MAX_RANGE_DAYS} days (three years) at most.", field="from")


def check_scope_request(request: ScopeRequest) -> None:
    given = [name for name, value in (("programId", request.program_id), ("organizationId", request.organization_id),
                                      ("cocCode", request.coc_code), ("agreementId", request.agreement_id)) if value is not None]
    if len(given) != 1:
        raise BadInput(
            "Give exactly one of programId, organizationId, cocCode and agreementId"
            + (f" (got {', '.join(given)})." if given else " (got none)."),
            field="scope",
        )


REFUSED = (
    "Performance measures are for the staff and admins of the program's organization and for the Coordinated "
    "Entry managers of its Continuum of Care."
)


async def resolve_scope(session: AsyncSession, viewer: Viewer, request: ScopeRequest) -> Scope:
    """The scope, once the viewer is known to be allowed it: NOT_FOUND, then FORBIDDEN."""
    check_scope_request(request)
    if viewer.role not in capabilities.ROLES[Capability.SEE_PERFORMANCE]:
        raise Forbidden(REFUSED)
    if request.program_id is not None:
        program = await session.scalar(
            select(Program).where(Program.id == request.program_id).options(joinedload(Program.organization))
        )
        if program is None:
            raise NotFound("No program with that id.")
        if not capabilities.can(viewer, Capability.SEE_PERFORMANCE, program=program):
            raise Forbidden(REFUSED)
        return Scope(ScopeKind.PROGRAM, program.id, program.name, None, Referral.program_id == program.id)
    if request.organization_id is not None:
        organization = await session.get(Organization, request.organization_id)
        if organization is None:
            raise NotFound("No organization with that id.")
        if not capabilities.can(viewer, Capability.SEE_PERFORMANCE, organization=organization):
            raise Forbidden(REFUSED)
        where = Referral.program_organization_id == organization.id
        return Scope(ScopeKind.ORGANIZATION, organization.id, organization.name, None, where)
    if request.agreement_id is not None:
        return await _agreement_scope(session, viewer, request.agreement_id)
    code = (request.coc_code or "").strip()
    coc = await session.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == code))
    if coc is None:
        raise NotFound("No Continuum of Care has that code.")
    if not capabilities.can(viewer, Capability.SEE_PERFORMANCE, coc_code=coc.code):
        raise Forbidden("A Continuum of Care's performance measures are for its Coordinated Entry managers.")
    # The CoC of a referral is its program's organization's, as on the CE wall.
    where = Referral.program_organization_id.in_(select(Organization.id).where(Organization.coc_id == coc.id))
    return Scope(ScopeKind.COC, coc.id, coc.name, coc.code, where)


async def _agreement_scope(session: AsyncSession, viewer: Viewer, agreement_id: int) -> Scope:
    agreement = await session.scalar(
        select(DataSharingAgreement).where(DataSharingAgreement.id == agreement_id).options(selectinload(DataSharingAgreement.parties))
    )
    if agreement is None:
        raise NotFound("No data sharing agreement with that id.")
    if not capabilities.can(viewer, Capability.SEE_PERFORMANCE, agreement=agreement):
        raise Forbidden("An agreement's performance measures are for the admins of its parties, while it is in force.")
    parties = sorted(p.organization_id for p in agreement.parties)
    # Between the parties: made by one party's navigator, to another party's program.
    where = and_(
        Referral.navigator_organization_id.in_(parties),
        Referral.program_organization_id.in_(parties),
        Referral.navigator_organization_id != Referral.program_organization_id,
    )
    return Scope(ScopeKind.AGREEMENT, agreement.id, agreement.name, None, where, minimum_cell_size=MINIMUM_CELL_SIZE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _made_where(viewer: Viewer, scope: Scope, start: date, end: date) -> tuple[ColumnElement[bool], ...]:
    """The referrals made: live, to the scope's programs, created in the range, and no more than the
    viewer may already open or count on the wall (docs/architecture.md: why there is no cell size).
    An agreement's figures are its parties' together, whoever asks: they are shared under the
    minimum cell size instead."""
    window = (
        Referral.kind == ReferralKind.LIVE,
        scope.where,
        Referral.created_at >= _day_start(start),
        Referral.created_at < _day_start(end + timedelta(days=1)),
    )
    if scope.kind is ScopeKind.AGREEMENT:
        return window
    return (*window, or_(*(policy.where(viewer, action) for action in COUNTED)))


def _history(made_where: tuple[ColumnElement[bool], ...]) -> Any:
    """Per referral made: the program's first answer and the first change into a closed status.

    One grouped pass over their status changes, joined as a table: a correlated subquery per row,
    repeated wherever the figure is used, cost SQLite several times as much at 100,000 referrals.
    """
    change = StatusChange
    # The program's side: someone with a membership in the program's organization (at most one row:
    # memberships are unique per user and organization), or an email link without an account that
    # set a status no seeker's link offers (a program contact's one-click answer).
    by_program = or_(
        Membership.id.is_not(None),
        and_(change.changed_by_user_id.is_(None), change.source == ChangeSource.EMAIL, change.to_status.not_in(SEEKER_STATUSES)),
    )
    answered = and_(change.to_status != ReferralStatus.NOT_UPDATED, by_program)
    return (
        select(
            change.referral_id.label("referral_id"),
            func.min(case((answered, change.at))).label("first_answer"),
            func.min(case((change.to_status.in_(CLOSED), change.at))).label("first_closing"),
        )
        .join(Referral, Referral.id == change.referral_id)
        .outerjoin(
            Membership,
            and_(Membership.user_id == change.changed_by_user_id, Membership.organization_id == Referral.program_organization_id),
        )
        .where(*made_where)
        .group_by(change.referral_id)
        .subquery("history")
    )


def referrals_made(viewer: Viewer, scope: Scope, start: date, end: date) -> CTE:
    """One row per referral made, with what became of it: the table every figure is computed from."""
    r = Referral
    made_where = _made_where(viewer, scope, start, end)
    history = _history(made_where)
    referral_day = day_of(r.created_at)
    # An enrollment of the same person in the same program that began on or after the referral's day.
    following = (Enrollment.seeker_id == r.seeker_id, Enrollment.program_id == r.program_id, Enrollment.entry_date >= referral_day)
    entered = select(func.min(Enrollment.entry_date)).where(*following).scalar_subquery()
    moved_in = select(func.min(Enrollment.move_in_date)).where(*following, Enrollment.move_in_date.is_not(None)).scalar_subquery()
    is_closed = r.status.in_(CLOSED)
    answer_days = days_between(r.created_at, history.c.first_answer)
    return (
        select(
            r.status.label("status"),
            month_of(r.created_at).label("period"),
            earliest(answer_days, dates_between(referral_day, CeEvent.acknowledged_on)).label("ack_days"),
            case((or_(r.status == ReferralStatus.GOT_HELP, CeEvent.result == hud.SUCCESSFUL), 1), else_=0).label("got_help"),
            case((is_closed, 1), else_=0).label("resolved"),
            case((is_closed, days_between(r.created_at, history.c.first_closing)), else_=None).label("resolve_days"),
            entered.label("entered"),
            dates_between(referral_day, moved_in).label("move_in_days"),
            CeEvent.not_housed_reason.label("not_housed_reason"),
        )
        .select_from(r)
        .outerjoin(history, history.c.referral_id == r.id)
        .outerjoin(CeEvent, CeEvent.referral_id == r.id)
        .where(*made_where)
        .cte("made")
    )


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


async def measure(runtime: Runtime, viewer: Viewer, request: ScopeRequest, *, start: date, end: date) -> Figures:
    check_range(start, end)
    check_scope_request(request)
    async with runtime.db.read() as session:
        scope = await resolve_scope(session, viewer, request)
        rows: Sequence[Any] = (await session.execute(_figures(referrals_made(viewer, scope, start, end)))).all()
    headline = next(row for row in rows if row.kind == "total")
    by_status = {status: 0 for status in ReferralStatus}
    reasons: dict[str, int] = {}
    points: dict[str, tuple[int, int, int]] = {}
    for row in rows:
        if row.kind == "status":
            by_status[ReferralStatus[row.key]] = int(row.made)
        elif row.kind == "reason":
            reasons[row.key] = int(row.made)
        elif row.kind == "month":
            points[row.key] = (int(row.made), int(row.got_help), int(row.housed))
    return Figures(
        scope=scope,
        start=start,
        end=end,
        made=int(headline.made),
        acknowledged=int(headline.acknowledged),
        got_help=int(headline.got_help),
        resolved=int(headline.resolved),
        enrolled=int(headline.enrolled),
        housed=int(headline.housed),
        median_days_to_acknowledge=_days(headline.ack_days),
        median_days_to_resolve=_days(headline.resolve_days),
        median_days_to_move_in=_days(headline.move_in_days),
        by_status=by_status,
        by_not_housed_reason=reasons,
        series=[Point(month, *points.get(month.isoformat(), (0, 0, 0))) for month in _months(start, end)],
    )


def _days(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


_FIGURES = ("made", "acknowledged", "got_help", "resolved", "enrolled", "housed")
_MEDIANS = ("ack_days", "resolve_days", "move_in_days")


def _figures(made: CTE) -> Any:
    """Every figure in one statement, so that the referrals made are found once: a `total` row with the
    counts and medians, then rows by final status, by CE not-housed reason and per month, told apart by `kind`."""

    def row(kind: str, key: Any, counts: dict[str, Any], medians: dict[str, Any] | None = None) -> Any:
        columns = [literal(kind).label("kind"), key.label("key")]
        columns += [counts.get(name, literal(0)).label(name) for name in _FIGURES]
        columns += [(medians or {}).get(name, cast(null(), Float)).label(name) for name in _MEDIANS]
        return select(*columns).select_from(made)

    housed = _count_where(made.c.move_in_days.is_not(None))
    total = row(
        "total",
        cast(null(), String),
        {
            "made": func.count(),
            "acknowledged": _count_where(made.c.ack_days.is_not(None)),
            "got_help": _count_where(made.c.got_help == 1),
            "resolved": _count_where(made.c.resolved == 1),
            "enrolled": _count_where(made.c.entered.is_not(None)),
            "housed": housed,
        },
        {name: median(made, name).scalar_subquery() for name in _MEDIANS},
    )
    status = cast(made.c.status, String)
    by_status = row("status", status, {"made": func.count()}).group_by(status)
    reason = made.c.not_housed_reason
    by_reason = row("reason", reason, {"made": func.count()}).where(reason.is_not(None)).group_by(reason)
    by_month = row(
        "month", made.c.period, {"made": func.count(), "got_help": _count_where(made.c.got_help == 1), "housed": housed}
    ).group_by(made.c.period)
    return union_all(total, by_status, by_reason, by_month)


@dataclass(frozen=True)
class ScopeOption:
    kind: ScopeKind
    pk: int
    name: str
    coc_code: str | None = None
    organization_name: str | None = None


async def _agreement_options(session: AsyncSession, viewer: Viewer) -> list[ScopeOption]:
    if viewer.role is not Role.ADMIN or viewer.organization_id is None:
        return []
    today = utcnow().date()
    mine = select(AgreementParty.agreement_id).where(AgreementParty.organization_id == viewer.organization_id)
    rows = await session.execute(
        select(DataSharingAgreement.id, DataSharingAgreement.name)
        .where(DataSharingAgreement.id.in_(mine), DataSharingAgreement.starts_on <= today,
               or_(DataSharingAgreement.ends_on.is_(None), DataSharingAgreement.ends_on >= today))
        .order_by(DataSharingAgreement.name, DataSharingAgreement.id)
    )
    return [ScopeOption(ScopeKind.AGREEMENT, pk, name) for pk, name in rows]


async def scope_options(runtime: Runtime, viewer: Viewer) -> list[ScopeOption]:
    """What the viewer may ask about: their CoC or organization first, then its organizations and programs."""
    if viewer.role not in capabilities.ROLES[Capability.SEE_PERFORMANCE] or viewer.acting is None:
        return []
    acting = viewer.acting
    async with runtime.db.read() as session:
        if viewer.role is Role.CE_MANAGER:
            if acting.coc_id is None or acting.coc_code is None:
                return []
            orgs = select(Organization.id).where(Organization.coc_id == acting.coc_id)
            coc_name = await session.scalar(select(ContinuumOfCare.name).where(ContinuumOfCare.id == acting.coc_id))
            head = [ScopeOption(ScopeKind.COC, acting.coc_id, coc_name or acting.coc_code, coc_code=acting.coc_code)]
            organizations = await session.scalars(select(Organization).where(Organization.id.in_(orgs)).order_by(Organization.name))
            head += [ScopeOption(ScopeKind.ORGANIZATION, o.id, o.name) for o in organizations]
        else:
            orgs = select(literal(acting.organization_id))
            head = [ScopeOption(ScopeKind.ORGANIZATION, acting.organization_id, acting.organization_name)]
        programs = await session.execute(
            select(Program.id, Program.name, Organization.name)
            .join(Organization, Organization.id == Program.organization_id)
            .where(Program.organization_id.in_(orgs))
            .order_by(Organization.name, Program.name, Program.id)
        )
        agreements = await _agreement_options(session, viewer)
        return head + agreements + [ScopeOption(ScopeKind.PROGRAM, pid, name, organization_name=org) for pid, name, org in programs]
