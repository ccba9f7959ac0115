"""Every argument checked before any resolver runs: text bounded, NFC and free of control characters,
ids well formed, moments with a time zone.

One mechanism for the whole schema: `guard_inputs` wraps each field that takes arguments, and the
bounds live in BOUNDS, one per String input (an argument `Type.field.argument` or an input field
`InputType.field`) and one per list. tests/test_input_bounds.py walks the schema and fails on a
String or list input missing from BOUNDS; until one is added such an input gets DEFAULT_TEXT or
DEFAULT_LIST, so nothing is ever unbounded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)

from resolvers import cases, consent, coordinated_entry as ce, passwords, referrals
from db.idempotency import KEY_MAX_LENGTH
from resolvers.errors import BadInput
from resolvers.pagination import BAD_CURSOR, MAX_CURSOR_LENGTH
from resolvers.search import MAX_SEARCH_LENGTH, TOO_LONG
from resolvers.seekers import GENDER_COLUMNS, RACE_COLUMNS
from resolvers.text import Bound, Many, checked
from schema.ids import MAX_ID_LENGTH, parse_global_id

NAME = Bound(200)
PERSON_NAME = Bound(100)  # a seeker's first or last name: the columns hold 100
EMAIL = Bound(320)  # RFC 5321's longest address; email-validator checks the rest
PHONE = Bound(40)  # phonenumbers checks the number itself
COC_CODE = Bound(16)
CODE = Bound(64)  # a word from a fixed list (a HUD code, a list name, a dollar amount)
SEARCH = Bound(MAX_SEARCH_LENGTH, too_long=TOO_LONG)
CURSOR = Bound(MAX_CURSOR_LENGTH, opaque=True, too_long=BAD_CURSOR)
GLOBAL_ID = Bound(MAX_ID_LENGTH, opaque=True, too_long="That is not a valid id.")
NOTE = Bound(cases.NOTE_MAX, lines=True)  # case notes, goals, contacts, conferences: 10,000


def _lines(limit: int) -> Bound:
    return Bound(limit, lines=True)


DEFAULT_TEXT = NAME
DEFAULT_LIST = Many(100)

BOUNDS: dict[str, Bound | Many] = {
    # --- Query ---------------------------------------------------------------------------------
    "Query.programs.search": SEARCH,
    "Query.programs.postalCode": Bound(10),
    "Query.programs.after": CURSOR,
    "Query.referralsForMe.after": CURSOR,
    "Query.peopleImHelping.after": CURSOR,
    "Query.peopleImHelping.search": SEARCH,
    "Query.inboundReferrals.after": CURSOR,
    "Query.inboundReferrals.search": SEARCH,
    "Query.seekerProfiles.search": SEARCH,
    "Query.wallboard.cocCode": COC_CODE,
    "Query.priorityList.cocCode": COC_CODE,
    "Query.priorityList.eligibility": Bound(ce.ELIGIBILITY_MAX),
    "Query.priorityList.after": CURSOR,
    "Query.hudCodes.list": CODE,
    "Query.vacancies.cocCode": COC_CODE,
    "Query.ceEvents.cocCode": COC_CODE,
    "Query.ceEvents.after": CURSOR,
    "Query.enrollments.after": CURSOR,
    "Query.cases.after": CURSOR,
    "Query.auditTrail.after": CURSOR,
    "Query.familiesKnownToBoth.after": CURSOR,
    "Seeker.referrals.after": CURSOR,
    "PerformanceScopeInput.cocCode": COC_CODE,
    "Subscription.wallboardChanged.cocCode": COC_CODE,
    # --- Referrals and seekers -------------------------------------------------------------------
    "CreateReferralInput.comment": _lines(referrals.COMMENT_MAX_LENGTH),
    "CreateReferralInput.overrideDuplicateReason": _lines(referrals.OVERRIDE_REASON_MAX_LENGTH),
    "CreateReferralInput.screenerAnswers": Many(50),
    "ScreenerAnswerInput.key": Bound(100),
    "ScreenerAnswerInput.value": _lines(1000),
    "NewSeekerInput.firstName": PERSON_NAME,
    "NewSeekerInput.lastName": PERSON_NAME,
    "NewSeekerInput.email": EMAIL,
    "NewSeekerInput.phone": PHONE,
    "UpdateReferralStatusInput.note": _lines(referrals.NOTE_MAX_LENGTH),
    "AddReferralCommentInput.body": _lines(referrals.COMMENT_MAX_LENGTH),
    "UpdateClientElementsInput.races": Many(len(RACE_COLUMNS), each=CODE),
    "UpdateClientElementsInput.genders": Many(len(GENDER_COLUMNS), each=CODE),
    "UpdateNotificationSettingsInput.mutedEmailEvents": Many(50),
    # --- Enrollments and Coordinated Entry -------------------------------------------------------
    "CreateEnrollmentInput.members": Many(30),
    "CreateEnrollmentInput.enrollmentCoc": COC_CODE,
    "RecordCeAssessmentInput.cocCode": COC_CODE,
    "RecordCeAssessmentInput.location": Bound(ce.LOCATION_MAX),
    "RecordCeAssessmentInput.questions": Many(ce.MAX_QUESTIONS),
    "RecordCeAssessmentInput.results": Many(ce.MAX_RESULTS),
    "RecordCeAssessmentInput.eligibility": _lines(ce.ELIGIBILITY_MAX),
    "AssessmentQuestionInput.question": _lines(ce.QUESTION_MAX),
    "AssessmentQuestionInput.answer": _lines(ce.ANSWER_MAX),
    "AssessmentQuestionInput.group": Bound(ce.GROUP_MAX),
    "AssessmentResultInput.type": Bound(ce.RESULT_TYPE_MAX),
    "AssessmentResultInput.result": _lines(ce.RESULT_MAX),
    "RemoveFromPriorityListInput.reason": _lines(ce.REASON_MAX),
    "PostVacancyInput.description": Bound(ce.DESCRIPTION_MAX),
    "PostVacancyInput.eligibilityNotes": _lines(ce.NOTES_MAX),
    "CreateCeReferralInput.note": _lines(ce.NOTE_MAX),
    "CreateCeReferralInput.location": Bound(ce.LOCATION_MAX),
    "AcknowledgeCeReferralInput.providerContactName": Bound(ce.NAME_MAX),
    "AcknowledgeCeReferralInput.providerContactPhone": PHONE,
    "AcknowledgeCeReferralInput.providerContactEmail": EMAIL,
    # --- Cases ---------------------------------------------------------------------------------
    "OpenCaseInput.household": Many(cases.MAX_HOUSEHOLD),
    "AddCaseWorkerInput.email": EMAIL,
    "AddCaseGoalInput.words": NOTE,
    "RecordServiceContactInput.summary": NOTE,
    "RecordServiceContactInput.location": NAME,
    "RecordServiceContactInput.strengths": _lines(2000),
    "AddCaseNoteInput.body": NOTE,
    "RecordCaseConferenceInput.attendees": Many(cases.MAX_ATTENDEES, each=NAME),
    "RecordCaseConferenceInput.decisions": NOTE,
    "RecordCaseConferenceInput.nextSteps": Many(cases.MAX_NEXT_STEPS),
    "NextStepInput.who": NAME,
    "NextStepInput.what": _lines(1000),
    "RecordFinancialAssistanceInput.amount": CODE,
    "RecordFinancialAssistanceInput.payee": NAME,
    # --- Consent and agreements ------------------------------------------------------------------
    "GrantConsentInput.guardianName": NAME,
    "GrantConsentInput.guardianRelationship": Bound(100),
    "GrantConsentInput.witnessName": NAME,
    "GrantConsentInput.scopes": Many(20),
    "CreateAgreementInput.name": NAME,
    "CreateAgreementInput.purpose": _lines(2000),
    "CreateAgreementInput.partyOrganizationIds": Many(consent.MAX_PARTIES),
    "CreateAgreementInput.scopes": Many(20),
}

# Every create's key, kept exactly as sent (resolvers/idempotency.py checks it is printable ASCII).
IDEMPOTENCY_KEY = Bound(KEY_MAX_LENGTH, opaque=True)
KEYED_INPUTS = (
    "AddCaseGoalInput AddCaseNoteInput AddCaseWorkerInput AddReferralCommentInput CreateAgreementInput "
    "CreateCeReferralInput CreateEnrollmentInput CreateReferralInput GrantConsentInput LinkToCaseInput OpenCaseInput "
    "PostVacancyInput RecordCaseConferenceInput RecordCeAssessmentInput RecordFinancialAssistanceInput "
    "RecordServiceContactInput"
).split()
BOUNDS.update({f"{name}.idempotencyKey": IDEMPOTENCY_KEY for name in KEYED_INPUTS})
PASSWORD = Bound(passwords.MAX_LENGTH, exact=True)
BOUNDS.update({"Mutation.changePassword.currentPassword": PASSWORD, "Mutation.changePassword.newPassword": PASSWORD})


def _utc(value: datetime, field: str) -> datetime:
    # Compared with aware UTC columns: a naive time names no moment, and one at the edge of year 1
    # or 9999 may not survive the move to UTC.
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadInput(f"Give `{field}` with its time zone, like 2024-05-01T09:30:00-07:00.", field=field)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise BadInput(f"`{field}` is out of range.", field=field) from None


def _scalar(value: Any, scalar: GraphQLScalarType, coordinate: str, field: str, bound: Bound | None) -> Any:
    if scalar.name == "ID" and isinstance(value, str):
        checked(value, GLOBAL_ID, field=field)
        parse_global_id(value, field=field)
        return value
    if scalar.name == "String" and isinstance(value, str):
        found = BOUNDS.get(coordinate)
        return checked(value, bound or (found if isinstance(found, Bound) else DEFAULT_TEXT), field=field)
    if scalar.name == "DateTime" and isinstance(value, datetime):
        return _utc(value, field)
    return value


def _clean(value: Any, type_: GraphQLInputType, coordinate: str, field: str, bound: Bound | None = None) -> Any:
    """`value` of `type_`, as graphql-core coerced it, checked and cleaned all the way down."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return None
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            return value
        found = BOUNDS.get(coordinate)
        many = found if isinstance(found, Many) else DEFAULT_LIST
        if len(value) > many.limit:
            raise BadInput(f"`{field}` takes {many.limit} items at most.", field=field)
        return [_clean(item, type_.of_type, coordinate, field, many.each) for item in value]
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        return {key: _clean(item, type_.fields[key].type, f"{type_.name}.{key}", key) for key, item in value.items()}
    if isinstance(type_, GraphQLScalarType):
        return _scalar(value, type_, coordinate, field, bound)
    return value


def _guarded(parent: str, name: str, field: GraphQLField, call: Callable[..., Any]) -> Callable[..., Any]:
    arguments: dict[str, GraphQLArgument] = field.args

    @functools.wraps(call)
    def guarded(source: Any, info: Any, **kwargs: Any) -> Any:
        # Raised here, before the resolver, a BadInput becomes the field's error: nothing ran, nothing was written.
        cleaned = {
            key: _clean(value, arguments[key].type, f"{parent}.{name}.{key}", key) if key in arguments else value
            for key, value in kwargs.items()
        }
        return call(source, info, **cleaned)

    return guarded


def guard_inputs(schema: GraphQLSchema) -> None:
    """Check every field's arguments before its resolver (and a subscription's before it subscribes)."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            if not field.args:
                continue
            if field.resolve is not None:
                field.resolve = _guarded(type_.name, name, field, field.resolve)
            if field.subscribe is not None:
                field.subscribe = _guarded(type_.name, name, field, field.subscribe)


def string_inputs(schema: GraphQLSchema) -> dict[str, GraphQLArgument | GraphQLInputField]:
    """Every argument and input field that takes a String (or a list of them), by coordinate."""
    return {c: f for c, f in _inputs(schema).items() if _named(f.type).name == "String"}


def list_inputs(schema: GraphQLSchema) -> dict[str, GraphQLArgument | GraphQLInputField]:
    """Every argument and input field that takes a list, by coordinate."""
    return {c: f for c, f in _inputs(schema).items() if isinstance(_nullable(f.type), GraphQLList)}


def _nullable(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _named(type_: GraphQLInputType) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def _inputs(schema: GraphQLSchema) -> dict[str, GraphQLArgument | GraphQLInputField]:
    found: dict[str, GraphQLArgument | GraphQLInputField] = {}
    for type_ in schema.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for name, field in type_.fields.items():
                for arg_name, arg in field.args.items():
                    found[f"{type_.name}.{name}.{arg_name}"] = arg
        elif isinstance(type_, GraphQLInputObjectType):
            for name, input_field in type_.fields.items():
                found[f"{type_.name}.{name}"] = input_field
    return found
