"""The HMIS CSV export (FY2024): every file as HUD specifies it, for the CoC's CE managers only, and from the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from db import hud
from db.accounts import ContinuumOfCare, Organization, Role
from db.coordinated_entry import CeAssessment, CeEvent
from db.engine import Database
from db.events import OutboxEvent, SubjectType
from db.programs import ConnectMode, Program
from db.settings import Settings
from schema.ids import parse_global_id
from tests.documents import CREATE_REFERRAL
from tests.support import Api, Network, add_housing_program, add_member
from web import cli

# Each integer-coded column and the HUD list its codes come from.
CODED = {
    ("Export.csv", "SourceType"): "1.9",
    ("Export.csv", "ExportPeriodType"): "1.1",
    ("Export.csv", "ExportDirective"): "1.2",
    ("Export.csv", "HashStatus"): "1.5",
    ("Organization.csv", "VictimServiceProvider"): "1.7",
    ("Project.csv", "ContinuumProject"): "1.7",
    ("Project.csv", "ProjectType"): hud.PROJECT_TYPE,
    ("Project.csv", "HousingType"): "2.02.D",
    ("Client.csv", "NameDataQuality"): hud.NAME_DATA_QUALITY,
    ("Client.csv", "SSNDataQuality"): "3.02.2",
    ("Client.csv", "DOBDataQuality"): hud.DOB_DATA_QUALITY,
    ("Client.csv", "RaceNone"): hud.RACE_NONE,
    ("Client.csv", "GenderNone"): hud.RACE_NONE,
    ("Client.csv", "VeteranStatus"): hud.NO_YES_REASONS,
    ("Enrollment.csv", "RelationshipToHoH"): hud.RELATIONSHIP_TO_HOH,
    ("Enrollment.csv", "LivingSituation"): hud.PRIOR_LIVING_SITUATION,
    ("Enrollment.csv", "DisablingCondition"): hud.NO_YES_REASONS,
    ("Exit.csv", "Destination"): hud.DESTINATION,
    ("Assessment.csv", "AssessmentType"): hud.ASSESSMENT_TYPE,
    ("Assessment.csv", "AssessmentLevel"): hud.ASSESSMENT_LEVEL,
    ("Assessment.csv", "PrioritizationStatus"): hud.PRIORITIZATION_STATUS,
    ("Event.csv", "Event"): hud.EVENT_TYPE,
    ("Event.csv", "ProbSolDivRRResult"): hud.NO_YES_MISSING,
    ("Event.csv", "ReferralCaseManageAfter"): hud.NO_YES_MISSING,
    ("Event.csv", "ReferralResult"): hud.REFERRAL_RESULT,
}
for _race in (
    "AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican", "NativeHIPacific", "White",
    "Woman", "Man", "NonBinary", "CulturallySpecific", "Transgender", "Questioning", "DifferentIdentity",
):
    CODED[("Client.csv", _race)] = "1.10"

ENROLL = "mutation($input: CreateEnrollmentInput!) { createEnrollment(input: $input) { id household { id } } }"
MOVE_IN = "mutation($input: RecordMoveInInput!) { recordMoveIn(input: $input) { id } }"
EXIT = "mutation($input: ExitEnrollmentInput!) { exitEnrollment(input: $input) { id } }"
ELEMENTS = "mutation($input: UpdateClientElementsInput!) { updateClientElements(input: $input) { id } }"
RANGE = {"coc": "XX-500", "from": "2026-01-01", "to": "2026-12-31"}
LONG_NAME = "Bartholomew-Maximilian Alexandros Konstantinopoulos"  # 51 characters: longer than Client.csv allows


async def _referred(api: Api, network: Network, first: str, last: str = "Rivera") -> str:
    created = await api.gql(
        CREATE_REFERRAL,
        {
            "input": {
                "programId": network["housing"],
                "seeker": {"firstName": first, "lastName": last, "email": f"{first.lower()}@example.com"},
                "contactPreference": "EMAIL",
                "consent": True,
            }
        },
        as_="navigator@test.example",
    )
    seeker_id: str = created["createReferral"]["seeker"]["id"]
    return seeker_id


async def _world(api: Api, network: Network, db: Database) -> dict[str, str]:
    """A small CoC: a rapid re-housing program and a shelter, a household housed and exited, assessments and CE events."""
    await add_housing_program(db, network)
    async with db.write() as s:
        await s.execute(update(Program).where(Program.id == network.pks["housing"]).values(hud_project_type=13))
        s.add(Program(organization_id=network.pks["food"], name="Harbor Shelter", connect_mode=ConnectMode.REFER, hud_project_type=0))
        other = ContinuumOfCare(code="YY-501", name="Elsewhere CoC")
        s.add(other)
        await s.flush()
        elsewhere = Organization(name="Elsewhere Navigators", coc_id=other.id)
        s.add(elsewhere)
        await s.flush()
        network.pks["elsewhere"] = elsewhere.id
    ana = await _referred(api, network, "Ana", LONG_NAME)
    leo = await _referred(api, network, "Leo")
    max_ = await _referred(api, network, "Max")
    await api.gql(
        ELEMENTS,
        {"input": {"seekerId": ana, "nameDataQuality": 1, "dob": "1988-02-03", "races": ["BlackAfAmerican", "HispanicLatinaeo"],
                   "genders": ["Woman"], "veteranStatus": 1}},
        as_="navigator@test.example",
    )
    await api.gql(ELEMENTS, {"input": {"seekerId": leo, "raceNone": 9, "genderNone": 8}}, as_="navigator@test.example")
    head = (
        await api.gql(
            ENROLL,
            {"input": {"programId": network["housing"], "entryDate": "2026-02-01", "members": [
                {"seekerId": ana, "relationshipToHoH": 1, "priorLivingSituation": 116, "disablingCondition": 1},
                {"seekerId": leo, "relationshipToHoH": 2},
            ]}},
            as_="clinic@test.example",
        )
    )["createEnrollment"]
    await api.gql(MOVE_IN, {"input": {"enrollmentId": head["id"], "moveInDate": "2026-03-01"}}, as_="clinic@test.example")
    await api.gql(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-06-30", "destination": 435}}, as_="clinic@test.example")
    _, ana_pk = parse_global_id(ana)
    _, max_pk = parse_global_id(max_)
    _, enrollment_pk = parse_global_id(head["id"])
    async with db.write() as s:
        coc_id = await s.scalar(select(ContinuumOfCare.id).where(ContinuumOfCare.code == "XX-500"))
        assert coc_id is not None
        s.add_all(
            [
                CeAssessment(
                    seeker_id=max_pk, coc_id=coc_id, assessment_date=date(2026, 1, 15), location="Main office",
                    assessment_type=3, assessment_level=2, prioritization_status=1,
                    questions=[{"question": "Nights unsheltered in the last year?", "answer": "120", "group": "History"},
                               {"question": "Fleeing violence?", "answer": "No"},
                               {"question": "Anything else?", "answer": "y" * 600, "group": "g" * 300}],
                    results=[{"type": "Score", "result": "14"}], score=14,
                ),
                CeAssessment(
                    seeker_id=ana_pk, coc_id=coc_id, enrollment_id=enrollment_pk, assessment_date=date(2026, 1, 20),
                    location="Phone", assessment_type=1, assessment_level=1, prioritization_status=2,
                ),
                CeAssessment(  # outside the range: not exported
                    seeker_id=max_pk, coc_id=coc_id, assessment_date=date(2025, 6, 1), location="Office",
                    assessment_type=3, assessment_level=1, prioritization_status=2,
                ),
                CeEvent(seeker_id=max_pk, coc_id=coc_id, event_date=date(2026, 1, 16), event_type=2, problem_solving_result=0),
                CeEvent(
                    seeker_id=ana_pk, coc_id=coc_id, event_date=date(2026, 1, 22), event_type=13,
                    program_id=network.pks["housing"], result=1, result_date=date(2026, 1, 30), location="Clinic Rapid Rehousing",
                ),
            ]
        )
    ce = await add_member(db, "ce@test.example", organization_id=network.pks["navs"], role=Role.CE_MANAGER)
    other_ce = await add_member(db, "ce-elsewhere@test.example", organization_id=network.pks["elsewhere"], role=Role.CE_MANAGER)
    return {"ce": ce, "other_ce": other_ce}


def _read(content: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8")))) for name in archive.namelist()}


def _check_against_the_specification(files: dict[str, list[list[str]]]) -> None:
    spec = hud.columns()
    assert sorted(files) == sorted(spec), "every file, and only those"
    for name, rows in files.items():
        columns = spec[name]
        assert rows[0] == [c.name for c in columns], f"{name}'s header is the specification's, in order"
        for row in rows[1:]:
            assert len(row) == len(columns), name
            for column, value in zip(columns, row):
                where = f"{name} {column.name} = {value!r}"
                if not column.nullable:
                    assert value != "", where
                if value == "":
                    continue
                if column.max_length is not None:
                    assert len(value) <= column.max_length, where
                if column.name.endswith("ID"):
                    assert len(value) <= 32, where
                if column.type == "integer":
                    assert value.lstrip("-").isdigit(), where
                    list_id = CODED.get((name, column.name))
                    if list_id is not None:
                        assert hud.is_code(list_id, int(value)), where
                elif column.type == "date":
                    assert date.fromisoformat(value).isoformat() == value, where
                elif column.type == "datetime":
                    assert len(value) == 19 and value[10] == " " and value[4] == "-" and value[13] == ":", where


def _by(rows: list[list[str]], _id_column: str) -> list[dict[str, str]]:
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]


async def test_a_ce_manager_downloads_the_cocs_hmis_csv(api: Api, network: Network, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    who = await _world(api, network, db)
    token = await api.token(who["ce"])
    response = await api.http.get("/exports/hmis-csv", params=RANGE, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    files = _read(response.content)
    _check_against_the_specification(files)

    clients = _by(files["Client.csv"], "PersonalID")
    assert len(clients) == 3, "the two enrolled and the one assessed"
    ana = next(c for c in clients if c["FirstName"] == "Ana")
    assert ana["LastName"] == LONG_NAME[:50] and ana["DOB"] == "1988-02-03" and ana["VeteranStatus"] == "1"
    assert (ana["BlackAfAmerican"], ana["HispanicLatinaeo"], ana["White"], ana["RaceNone"]) == ("1", "1", "0", "")
    assert (ana["Woman"], ana["Man"], ana["GenderNone"]) == ("1", "0", "")
    leo = next(c for c in clients if c["FirstName"] == "Leo")
    assert (leo["RaceNone"], leo["GenderNone"], leo["DOBDataQuality"], leo["VeteranStatus"]) == ("9", "8", "99", "99")

    projects = {p["ProjectName"]: p for p in _by(files["Project.csv"], "ProjectID")}
    assert projects["Clinic Rapid Rehousing"]["ProjectType"] == "13"
    assert projects["Harbor Shelter"]["ProjectType"] == "0"
    assert projects["Test County CoC Coordinated Entry"]["ProjectType"] == "14"
    assert projects["Clinic Rapid Rehousing"]["OperatingStartDate"] <= "2026-02-01", "operating at its first entry"
    assert projects["Test County CoC Coordinated Entry"]["OperatingStartDate"] == "2026-01-15"
    enrollments = _by(files["Enrollment.csv"], "EnrollmentID")
    housed = [e for e in enrollments if e["ProjectID"] == projects["Clinic Rapid Rehousing"]["ProjectID"]]
    assert sorted(e["RelationshipToHoH"] for e in housed) == ["1", "2"]
    assert len({e["HouseholdID"] for e in housed}) == 1
    head = next(e for e in housed if e["RelationshipToHoH"] == "1")
    assert (head["EntryDate"], head["MoveInDate"], head["LivingSituation"], head["EnrollmentCoC"]) == ("2026-02-01", "2026-03-01", "116", "XX-500")
    exits = _by(files["Exit.csv"], "ExitID")
    assert [(x["EnrollmentID"], x["ExitDate"], x["Destination"]) for x in exits] == [(head["EnrollmentID"], "2026-06-30", "435")]
    enrollment_ids = {e["EnrollmentID"] for e in enrollments}
    assessments = _by(files["Assessment.csv"], "AssessmentID")
    assert len(assessments) == 2 and all(a["EnrollmentID"] in enrollment_ids for a in assessments)
    assert {a["AssessmentDate"] for a in assessments} == {"2026-01-15", "2026-01-20"}
    questions = _by(files["AssessmentQuestions.csv"], "AssessmentQuestionID")
    assert [(q["AssessmentQuestionOrder"], q["AssessmentAnswer"]) for q in questions] == [("1", "120"), ("2", "No"), ("3", "y" * 500)]
    assert questions[2]["AssessmentQuestionGroup"] == "g" * 250, "cut to the column's length"
    assert [r["AssessmentResult"] for r in _by(files["AssessmentResults.csv"], "AssessmentResultID")] == ["14"]
    events = _by(files["Event.csv"], "EventID")
    assert sorted((e["Event"], e["ReferralResult"], e["ResultDate"]) for e in events) == [("13", "1", "2026-01-30"), ("2", "", "")]
    assert all(e["EnrollmentID"] in enrollment_ids for e in events)
    (export,) = _by(files["Export.csv"], "ExportID")
    assert (export["ExportStartDate"], export["ExportEndDate"], export["CSVVersion"]) == ("2026-01-01", "2026-12-31", "FY2024")
    assert {row[-1] for name, rows in files.items() if name != "Export.csv" for row in rows[1:]} == {export["ExportID"]}, "every row names its export"

    async with db.read() as s:
        recorded = list(await s.scalars(select(OutboxEvent).where(OutboxEvent.subject_type == SubjectType.EXPORT)))
    assert [e.change["exportId"] for e in recorded] == [export["ExportID"]]

    # The command line writes the same files (a new export id and time, the same rows).
    out = tmp_path / "export.zip"
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    await asyncio.to_thread(
        cli.main, ["export", "hmis-csv", "--coc", "XX-500", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(out)]
    )
    from_cli = _read(out.read_bytes())
    _check_against_the_specification(from_cli)

    def comparable(f: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        drop = {"ExportID", "ExportDate", "DateCreated", "DateUpdated"}
        out: dict[str, list[list[str]]] = {}
        for name, rows in f.items():
            keep = [i for i, c in enumerate(rows[0]) if c not in drop]
            out[name] = [[r[i] for i in keep] for r in rows]
        return out

    assert comparable(from_cli) == comparable(files)
    async with db.read() as s:
        sources = [e.source.name for e in await s.scalars(select(OutboxEvent).where(OutboxEvent.subject_type == SubjectType.EXPORT).order_by(OutboxEvent.seq))]
    assert sources == ["API", "SYSTEM"]


async def test_only_the_cocs_own_ce_managers_may_export(api: Api, network: Network, db: Database) -> None:
    who = await _world(api, network, db)

    async def get(params: dict[str, str], email: str | None, header: str | None = None) -> tuple[int, dict[str, str]]:
        headers = {}
        if header is not None:
            headers["authorization"] = header
        elif email is not None:
            headers["authorization"] = f"Bearer {await api.token(email)}"
        response = await api.http.get("/exports/hmis-csv", params=params, headers=headers)
        body: dict[str, str] = response.json()
        return response.status_code, body

    status, body = await get(RANGE, None)
    assert (status, body["code"]) == (401, "UNAUTHENTICATED")
    assert (await get(RANGE, None, header="Bearer not-a-token"))[0] == 401
    status, body = await get(RANGE, who["other_ce"])
    assert (status, body["code"]) == (403, "FORBIDDEN") and "CE managers" in body["error"]
    assert (await get({**RANGE, "coc": "YY-501"}, who["ce"]))[0] == 403, "not the CoC they act for"
    assert (await get(RANGE, "clinic@test.example"))[0] == 403
    assert (await get(RANGE, "navigator@test.example"))[0] == 403
    for bad in ({"from": "2026-13-01"}, {"to": "yesterday"}, {"from": "2026-12-31", "to": "2026-01-01"}, {"from": ""},
                {"from": "2010-01-01", "to": "2026-01-01"}, {"coc": ""}):
        status, body = await get({**RANGE, **bad}, who["ce"])
        assert (status, body["code"]) == (400, "BAD_USER_INPUT"), bad
    async with db.read() as s:
        assert await s.scalar(select(OutboxEvent.seq).where(OutboxEvent.subject_type == SubjectType.EXPORT)) is None, "refusals export nothing"


async def test_the_command_line_refuses_a_range_that_ends_before_it_starts(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    out = tmp_path / "export.zip"
    args = ["export", "hmis-csv", "--coc", "XX-500", "--from", "2026-12-31", "--to", "2026-01-01", "--out", str(out)]
    with pytest.raises(SystemExit, match="ends before it starts"):
        await asyncio.to_thread(cli.main, args)
    assert not out.exists()


async def test_the_command_line_says_when_it_cannot_write_the_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Database, network: Network
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    args = ["export", "hmis-csv", "--coc", "XX-500", "--from", "2026-01-01", "--to", "2026-12-31", "--out", "/nonexistent/x.zip"]
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(cli.main, args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "referloop export hmis-csv" in err and "/nonexistent" in err and "Traceback" not in err
    async with db.read() as s:
        assert await s.scalar(select(OutboxEvent.seq).where(OutboxEvent.subject_type == SubjectType.EXPORT)) is None, "nothing exported"


async def test_residential_projects_export_their_housing_type(api: Api, network: Network, db: Database) -> None:
    who = await _world(api, network, db)
    response = await api.http.get("/exports/hmis-csv", params=RANGE, headers={"authorization": f"Bearer {await api.token(who['ce'])}"})
    assert response.status_code == 200
    files = _read(response.content)
    projects = {p["ProjectName"]: p for p in _by(files["Project.csv"], "ProjectID")}
    assert projects["Clinic Rapid Rehousing"]["HousingType"] == "3", "rapid re-housing: tenant-based, scattered site"
    assert projects["Harbor Shelter"]["HousingType"] == "1", "a shelter: site-based, single site"
    assert projects["Harbor Pantry"]["HousingType"] == "", "not a residential project"
    assert all(hud.is_code("2.02.D", int(p["HousingType"])) for p in projects.values() if p["HousingType"])
    # A program that says how it houses people (site-based PSH in clustered buildings, say) is exported as it says.
    async with db.write() as s:
        await s.execute(update(Program).where(Program.name == "Clinic Rapid Rehousing").values(hud_housing_type=2))
    again = await api.http.get("/exports/hmis-csv", params=RANGE, headers={"authorization": f"Bearer {await api.token(who['ce'])}"})
    projects = {p["ProjectName"]: p for p in _by(_read(again.content)["Project.csv"], "ProjectID")}
    assert projects["Clinic Rapid Rehousing"]["HousingType"] == "2"
