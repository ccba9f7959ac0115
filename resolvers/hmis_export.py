"""HUD HMIS CSV export (FY2024) for one Continuum of Care over a date range, as a zip built in memory.

What goes in: the CoC's programs (their own CoC, or else their organization's) and their
organizations; the enrollments in those programs that overlap the range, with their exits; the CoC's
CE assessments (with their questions and results) and CE events in the range; and every client of
those. Columns, their order, types, lengths and required cells follow db/hmis/columns.csv; coded
cells hold HUD's codes. An assessment or event recorded outside any enrollment is tied to the
client's enrollment in a "Coordinated Entry" project (type 14) of the CoC, as HUD's CE data expects.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import hud
from db.accounts import ContinuumOfCare, Organization, Role
from db.audit import AuditAction, AuditSubject, Scope
from db.base import utcnow
from db.coordinated_entry import CeAssessment, CeEvent
from db.engine import Database
from db.enrollments import Enrollment
from db.events import EventKind, SubjectType
from db.programs import Program
from db.referrals import ChangeSource
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.live.outbox import number_now, record_event
from resolvers.policy import capabilities
from resolvers.policy.capabilities import Capability
from resolvers.policy.enrollments import programs_in_coc
from resolvers.runtime import Runtime
from resolvers.seekers import GENDER_COLUMNS, RACE_COLUMNS
from resolvers.viewer import Viewer
from resolvers.text import excerpt

SOFTWARE = "Referloop"
CSV_VERSION = "FY2024"
# No file may hold more rows than this: a bigger export is asked for a shorter range instead.
MAX_ROWS = 100_000
MAX_RANGE_DAYS = 5 * 366
EARLIEST = date(1998, 1, 1)  # HMIS began with HUD's 1998 data standards
NOT_COLLECTED = 99
SYSTEM_USER = "SYSTEM"
FILES = (
    "Export.csv",
    "Organization.csv",
    "Project.csv",
    "Client.csv",
    "Enrollment.csv",
    "Exit.csv",
    "Assessment.csv",
    "AssessmentQuestions.csv",
    "AssessmentResults.csv",
    "Event.csv",
)
_ID_COLUMN = re.compile(r".*ID$")
# 2.02.D Housing Type, for residential projects (2.02.6: ES 0 and 1, TH 2, PSH 3, SH 8, PH 9 and 10, RRH 13).
# A program's own `hud_housing_type` wins; without one, each type gets the usual arrangement: shelters,
# transitional housing and safe havens are site-based at one site (1); rapid re-housing and other
# permanent housing place people in units of their own through leases or vouchers, tenant-based (3).
HOUSING_TYPE_FOR_PROJECT = {0: 1, 1: 1, 2: 1, 8: 1, 3: 3, 9: 3, 10: 3, 13: 3}
# The CLI exports as the system: no account, no organization.
SYSTEM_VIEWER = Viewer(user_id=None, email="", name="referloop export (command line)", role=Role.CE_MANAGER, operation="cli")
# What each exported client's row in the audit log says was read: Client.csv, Enrollment.csv and the CE files.
EXPORTED_SCOPES = (Scope.NAME, Scope.HMIS_ELEMENTS, Scope.ENROLLMENTS, Scope.CE_ASSESSMENT)


@dataclass(frozen=True)
class HmisExport:
    filename: str
    content: bytes
    export_id: str
    rows: Mapping[str, int]
    # The seekers in Client.csv: each is recorded in the audit log as read by the export.
    client_ids: tuple[int, ...] = ()


def check_range(start: date, end: date) -> None:
    if end < start:
        raise BadInput("The export range ends before it starts; give `from` on or before `to`.", field="to")
    if start < EARLIEST:
        raise BadInput(f"The export range starts before {EARLIEST.year}; check the year.", field="from")
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadInput("An export covers at most five years; give a shorter range.", field="to")


def _user(user_id: int | None) -> str:
    return str(user_id) if user_id is not None else SYSTEM_USER


def _cell(column: hud.Column, value: Any) -> str:
    if value is None:
        text = ""
    elif column.type == "datetime":
        assert isinstance(value, datetime)
        text = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    elif column.type == "date":
        assert isinstance(value, date)
        text = value.strftime("%Y-%m-%d")
    elif column.type == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), (column.name, value)
        text = str(value)
    else:
        text = " ".join(str(value).split())  # one line: no stray newlines or tabs in a cell
        if _ID_COLUMN.fullmatch(column.name) and column.max_length and len(text) > column.max_length:
            raise AssertionError(f"{column.file} {column.name} {text!r} is longer than an HMIS id may be")
        if column.max_length is not None:
            text = text[: column.max_length]
    if not text and not column.nullable:
        raise AssertionError(f"{column.file} {column.name} must not be empty")
    return text


def _csv(file: str, rows: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    columns = hud.columns()[file]
    names = {c.name for c in columns}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    count = 0
    for row in rows:
        unknown = set(row) - names
        assert not unknown, f"{file} has no columns {unknown}"
        writer.writerow([_cell(c, row.get(c.name)) for c in columns])
        count += 1
    return out.getvalue().encode("utf-8"), count


async def _bounded(session: AsyncSession, stmt: Select[Any], what: str) -> list[Any]:
    rows = list((await session.scalars(stmt.limit(MAX_ROWS + 1))).unique())
    if len(rows) > MAX_ROWS:
        raise BadInput(f"There are more than {MAX_ROWS:,} {what} in that range; export a shorter range.", field="to")
    return rows


def _stamps(created: datetime, updated: datetime | None, user_id: int | None, export_id: str) -> dict[str, Any]:
    return {"DateCreated": created, "DateUpdated": updated or created, "UserID": _user(user_id), "ExportID": export_id}


def _flags(chosen: Sequence[str], columns: Sequence[str]) -> dict[str, int]:
    return {c: 1 if c in chosen else 0 for c in columns}


def _client(seeker: Seeker, export_id: str) -> dict[str, Any]:
    races = list(seeker.races or [])
    genders = list(seeker.genders or [])
    return {
        "PersonalID": str(seeker.id),
        "FirstName": seeker.first_name,
        "LastName": seeker.last_name,
        "NameDataQuality": seeker.name_data_quality,
        "SSNDataQuality": NOT_COLLECTED,
        "DOB": seeker.dob,
        "DOBDataQuality": seeker.dob_data_quality,
        **_flags(races, RACE_COLUMNS),
        "RaceNone": None if races else (seeker.race_none if seeker.race_none is not None else NOT_COLLECTED),
        **_flags(genders, GENDER_COLUMNS),
        "GenderNone": None if genders else (seeker.gender_none if seeker.gender_none is not None else NOT_COLLECTED),
        "VeteranStatus": seeker.veteran_status,
        **_stamps(seeker.created_at, seeker.updated_at, seeker.created_by_user_id, export_id),
    }


def _ce_ids(coc: ContinuumOfCare) -> tuple[str, str]:
    """The ids of the CoC's own organization and Coordinated Entry project rows."""
    return f"COC{coc.id}", f"CE{coc.id}"


async def build_hmis_export(
    session: AsyncSession, coc: ContinuumOfCare, *, start: date, end: date, exported_at: datetime, export_id: str
) -> HmisExport:
    programs: list[Program] = await _bounded(
        session, select(Program).where(programs_in_coc(coc.id)).order_by(Program.id), "programs"
    )
    program_ids = [p.id for p in programs]
    org_ids = {p.organization_id for p in programs}
    organizations: list[Organization] = await _bounded(
        session,
        select(Organization).where(or_(Organization.coc_id == coc.id, Organization.id.in_(org_ids))).order_by(Organization.id),
        "organizations",
    )
    enrollments: list[Enrollment] = await _bounded(
        session,
        select(Enrollment)
        .where(
            Enrollment.program_id.in_(program_ids),
            Enrollment.entry_date <= end,
            or_(Enrollment.exit_date.is_(None), Enrollment.exit_date >= start),
        )
        .order_by(Enrollment.id),
        "enrollments",
    )
    assessments: list[CeAssessment] = await _bounded(
        session,
        select(CeAssessment)
        .where(CeAssessment.coc_id == coc.id, CeAssessment.assessment_date >= start, CeAssessment.assessment_date <= end)
        .order_by(CeAssessment.id),
        "assessments",
    )
    events: list[CeEvent] = await _bounded(
        session,
        select(CeEvent)
        .where(CeEvent.coc_id == coc.id, CeEvent.event_date >= start, CeEvent.event_date <= end)
        .order_by(CeEvent.id),
        "CE events",
    )
    exported = {e.id for e in enrollments}
    seeker_ids = {e.seeker_id for e in enrollments} | {a.seeker_id for a in assessments} | {e.seeker_id for e in events}
    seekers: list[Seeker] = await _bounded(
        session, select(Seeker).where(Seeker.id.in_(seeker_ids)).order_by(Seeker.id), "clients"
    )

    # Assessments and events outside an exported enrollment go to the client's CE project enrollment.
    ce_org_id, ce_project_id = _ce_ids(coc)
    ce_entry: dict[int, date] = {}
    for seeker_id, enrollment_id, day in [
        *((a.seeker_id, a.enrollment_id, a.assessment_date) for a in assessments),
        *((e.seeker_id, e.enrollment_id, e.event_date) for e in events),
    ]:
        if enrollment_id not in exported:
            ce_entry[seeker_id] = min(day, ce_entry.get(seeker_id, day))

    def enrollment_of(seeker_id: int, enrollment_id: int | None) -> str:
        return str(enrollment_id) if enrollment_id in exported else f"CE{seeker_id}"

    files: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}
    files["Export.csv"].append(
        {
            "ExportID": export_id,
            "SourceType": 4,  # 1.9 Other: a referral network, not an HMIS
            "SourceID": coc.code,
            "SourceName": SOFTWARE,
            "ExportDate": exported_at,
            "ExportStartDate": start,
            "ExportEndDate": end,
            "SoftwareName": SOFTWARE,
            "SoftwareVersion": _version(),
            "CSVVersion": CSV_VERSION,
            "ExportPeriodType": 3,  # 1.1 Reporting period
            "ExportDirective": 2,  # 1.2 Full refresh
            "HashStatus": 1,  # 1.5 Unhashed
            "ImplementationID": f"referloop:{coc.code}",
        }
    )
    for org in organizations:
        files["Organization.csv"].append(
            {
                "OrganizationID": str(org.id),
                "OrganizationName": org.name,
                "VictimServiceProvider": 0,
                **_stamps(org.created_at, None, None, export_id),
            }
        )
    # A program may have run before it joined Referloop: it operated at least since its first entry.
    first_entry: dict[int, date] = {}
    for e in enrollments:
        first_entry[e.program_id] = min(e.entry_date, first_entry.get(e.program_id, e.entry_date))
    for p in programs:
        files["Project.csv"].append(
            {
                "ProjectID": str(p.id),
                "OrganizationID": str(p.organization_id),
                "ProjectName": p.name,
                "OperatingStartDate": min(p.created_at.date(), first_entry.get(p.id, p.created_at.date())),
                "ContinuumProject": 1 if p.hud_project_type is not None else 0,  # 1.7
                "ProjectType": p.hud_project_type,
                "HousingType": p.hud_housing_type
                if p.hud_housing_type is not None
                else HOUSING_TYPE_FOR_PROJECT.get(p.hud_project_type) if p.hud_project_type is not None else None,
                **_stamps(p.created_at, None, None, export_id),
            }
        )
    if ce_entry:
        files["Organization.csv"].append(
            {
                "OrganizationID": ce_org_id,
                "OrganizationName": coc.name,
                "VictimServiceProvider": 0,
                **_stamps(exported_at, None, None, export_id),
            }
        )
        files["Project.csv"].append(
            {
                "ProjectID": ce_project_id,
                "OrganizationID": ce_org_id,
                "ProjectName": f"{coc.name} Coordinated Entry",
                "OperatingStartDate": min(ce_entry.values()),
                "ContinuumProject": 1,
                "ProjectType": 14,  # 2.02.6 Coordinated Entry
                **_stamps(exported_at, None, None, export_id),
            }
        )
    files["Client.csv"] = [_client(s, export_id) for s in seekers]
    for e in enrollments:
        files["Enrollment.csv"].append(
            {
                "EnrollmentID": str(e.id),
                "PersonalID": str(e.seeker_id),
                "ProjectID": str(e.program_id),
                "EntryDate": e.entry_date,
                "HouseholdID": f"H{e.household_id}",
                "RelationshipToHoH": e.relationship_to_hoh,
                "EnrollmentCoC": e.enrollment_coc,
                "LivingSituation": e.prior_living_situation,
                "DisablingCondition": e.disabling_condition,
                "MoveInDate": e.move_in_date,
                **_stamps(e.created_at, e.updated_at, e.created_by_user_id, export_id),
            }
        )
        if e.exit_date is not None and e.exit_date <= end:
            files["Exit.csv"].append(
                {
                    "ExitID": str(e.id),
                    "EnrollmentID": str(e.id),
                    "PersonalID": str(e.seeker_id),
                    "ExitDate": e.exit_date,
                    "Destination": e.destination if e.destination is not None else NOT_COLLECTED,
                    **_stamps(e.updated_at, e.updated_at, e.created_by_user_id, export_id),
                }
            )
    for seeker_id, entry in sorted(ce_entry.items()):
        files["Enrollment.csv"].append(
            {
                "EnrollmentID": f"CE{seeker_id}",
                "PersonalID": str(seeker_id),
                "ProjectID": ce_project_id,
                "EntryDate": entry,
                "HouseholdID": f"CEH{seeker_id}",
                "RelationshipToHoH": 1,
                "EnrollmentCoC": coc.code if len(coc.code) <= 6 else None,
                "DisablingCondition": NOT_COLLECTED,
                **_stamps(exported_at, None, None, export_id),
            }
        )
    for a in assessments:
        ids = {"AssessmentID": str(a.id), "EnrollmentID": enrollment_of(a.seeker_id, a.enrollment_id), "PersonalID": str(a.seeker_id)}
        files["Assessment.csv"].append(
            {
                **ids,
                "AssessmentDate": a.assessment_date,
                "AssessmentLocation": a.location,
                "AssessmentType": a.assessment_type,
                "AssessmentLevel": a.assessment_level,
                "PrioritizationStatus": a.prioritization_status,
                **_stamps(a.created_at, None, a.created_by_user_id, export_id),
            }
        )
        for order, q in enumerate(a.questions or [], start=1):
            question = " ".join(str(q.get("question") or "").split())
            if not question:
                continue
            answer = q.get("answer")
            files["AssessmentQuestions.csv"].append(
                {
                    "AssessmentQuestionID": f"{a.id}Q{order}",
                    **ids,
                    "AssessmentQuestionGroup": q.get("group"),
                    "AssessmentQuestionOrder": order,
                    "AssessmentQuestion": question,
                    "AssessmentAnswer": None if answer is None else str(answer),
                    **_stamps(a.created_at, None, a.created_by_user_id, export_id),
                }
            )
        for order, r in enumerate(a.results or [], start=1):
            result_type = " ".join(str(r.get("type") or "").split())
            if not result_type:
                continue
            result = r.get("result")
            files["AssessmentResults.csv"].append(
                {
                    "AssessmentResultID": f"{a.id}R{order}",
                    **ids,
                    "AssessmentResultType": result_type,
                    "AssessmentResult": None if result is None else str(result),
                    **_stamps(a.created_at, None, a.created_by_user_id, export_id),
                }
            )
    for ev in events:
        housing = ev.event_type in hud.HOUSING_REFERRAL_EVENTS
        files["Event.csv"].append(
            {
                "EventID": str(ev.id),
                "EnrollmentID": enrollment_of(ev.seeker_id, ev.enrollment_id),
                "PersonalID": str(ev.seeker_id),
                "EventDate": ev.event_date,
                "Event": ev.event_type,
                "ProbSolDivRRResult": ev.problem_solving_result if ev.event_type == 2 else None,
                "ReferralCaseManageAfter": ev.case_management_after if ev.event_type == 5 else None,
                "LocationCrisisOrPHHousing": ev.location,
                "ReferralResult": ev.result if housing else None,
                "ResultDate": ev.result_date if housing and ev.result is not None else None,
                **_stamps(ev.created_at, ev.updated_at, ev.created_by_user_id, export_id),
            }
        )

    buffer = io.BytesIO()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            content, counts[name] = _csv(name, files[name])
            archive.writestr(name, content)
    filename = f"hmis-{coc.code}-{start.isoformat()}-{end.isoformat()}.zip"
    return HmisExport(
        filename=filename, content=buffer.getvalue(), export_id=export_id, rows=counts, client_ids=tuple(s.id for s in seekers)
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("referloop")
    except PackageNotFoundError:
        return "0"


async def _export(db: Database, viewer: Viewer, *, coc_code: str, start: date, end: date, source: ChangeSource) -> HmisExport:
    check_range(start, end)
    exported_at = utcnow().replace(microsecond=0)
    export_id = uuid.uuid4().hex  # 32 characters, HMIS's longest id
    async with db.read() as session:
        coc = await session.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == coc_code))
        if coc is None:
            raise NotFound(f"There is no CoC with the code “{excerpt(coc_code)}”.")
        export = await build_hmis_export(session, coc, start=start, end=end, exported_at=exported_at, export_id=export_id)
    async with db.write() as session:
        recorded = await record_event(
            session,
            subject_type=SubjectType.EXPORT,
            subject_id=coc.id,
            kind=EventKind.CREATED,
            actor=viewer,
            source=source,
            change={
                "export": "HMIS_CSV",
                "exportId": export_id,
                "coc": coc.code,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "rows": dict(export.rows),
            },
        )
        # The audit rows name the export by its event's number, which they can never change after.
        await number_now(session)
        # One row per exported client (HMIS asks who saw whose record), in one INSERT per thousand.
        await audit.record(
            session,
            viewer,
            seeker_ids=export.client_ids,
            scopes=EXPORTED_SCOPES,
            action=AuditAction.READ,
            subject=audit.Subject(AuditSubject.EXPORT, recorded.seq),
        )
    return export


async def export_hmis_csv(runtime: Runtime, viewer: Viewer, *, coc_code: str, start: date, end: date) -> HmisExport:
    """The CoC's HMIS CSV export, for its own CE managers; every export is recorded in the outbox."""
    if not capabilities.can(viewer, Capability.EXPORT_HMIS, coc_code=coc_code):
        raise Forbidden("Only the CoC's own CE managers can export its HMIS data.")
    exporter = dataclasses.replace(viewer, operation="export")
    export = await _export(runtime.db, exporter, coc_code=coc_code, start=start, end=end, source=ChangeSource.API)
    await runtime.announce()
    return export


async def export_hmis_csv_as_system(db: Database, *, coc_code: str, start: date, end: date) -> HmisExport:
    """The same export for an operator at the command line, recorded as the system's."""
    return await _export(db, SYSTEM_VIEWER, coc_code=coc_code, start=start, end=end, source=ChangeSource.SYSTEM)
