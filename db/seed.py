"""The demo network that `make run` serves (development only).

A small Los Angeles network: one Continuum of Care, seven organizations, their programs, navigators
and program staff, sixty seekers and a few hundred referrals with their histories and comments; and
the CoC's Coordinated Entry: housing programs with vacancies, 104 assessed clients (100 still on the
priority list) and CE referrals at every stage, each a live referral as createCeReferral makes it. The
content is the same on every run (random.Random(2026)); only the timestamps move, relative to now.
Rows are inserted directly: layering points down, so nothing here imports resolvers/ or schema/.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from argon2 import PasswordHasher
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import hud
from db.accounts import ContinuumOfCare, Membership, Organization, Role, Site, Team, User
from db.base import utcnow
from db.cases import AssistanceKind, Case, CaseMember, CaseRecord, CaseRole, CaseSeeker, CaseStage, ClosureReason, ContactType, GoalStatus, Intensity, RecordKind
from db.consent import AgreementParty, AgreementScope, CaptureMethod, Consent, ConsentScope, DataSharingAgreement, GrantedBy, Scope
from db.coordinated_entry import EVENT_TYPE_FOR_PROJECT, STATUS_FOR_RESULT, CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.engine import Database
from db.enrollments import Enrollment, Household
from db.programs import (
    Address,
    ConnectMode,
    Language,
    Location,
    Phone,
    Program,
    ProgramCategory,
    ProgramCategoryTag,
    ProgramServiceArea,
    Schedule,
)
from db.events import EventKind, OutboxEvent, SubjectType
from db.referrals import ChangeSource, Comment, Referral, ReferralKind, ReferralStatus, StatusChange, kind_for
from db.seekers import ContactPreference, Seeker
from db.settings import Settings

DEMO_DOMAIN = "demo.referloop.org"
# Meets the password rules (resolvers/passwords.py) for every demo account: tests/test_sign_in_security.py checks.
DEMO_PASSWORD = "referloop-demo"
RANDOM_SEED = 2026
HISTORY_DAYS = 60
# The outbox keeps a week by default; older activity has no events to replay.
EVENT_WINDOW = timedelta(days=7)

C = ProgramCategory
M = ConnectMode
S = ReferralStatus
P = ContactPreference

# ---------------------------------------------------------------------------------------------
# Organizations, teams and sites
# ---------------------------------------------------------------------------------------------

COC = ("CA-600", "Los Angeles City & County CoC")


class OrgSpec(NamedTuple):
    slug: str  # only for the seed's own cross-references and the example.org addresses
    name: str
    teams: tuple[str, ...]
    sites: tuple[tuple[str, bool], ...]  # (name, tracking_only)


NAVIGATOR_ORG = "eastside-frc"
CE_LEAD_ORG = "metro-housing"
INTAKE_ORG = "crenshaw-chc"
TRACKING_SITE = "Street Outreach (tracking only)"
CHILD_WELFARE_ORG = "county-dcfs"
HOUSING_ORG = "harbor-supportive-housing"

ORGANIZATIONS: tuple[OrgSpec, ...] = (
    OrgSpec(
        NAVIGATOR_ORG,
        "Eastside Family Resource Center",
        ("Family Navigation", "Street Outreach"),
        (("Boyle Heights Office", False), ("Lincoln Heights Office", False), (TRACKING_SITE, True)),
    ),
    OrgSpec("harbor-food-bank", "Harbor Gateway Food Bank", ("Pantry Network",), (("Gardena Distribution Center", False),)),
    OrgSpec(CE_LEAD_ORG, "Metro Housing Authority", ("Coordinated Entry",), (("Downtown Access Center", False),)),
    OrgSpec("southside-legal-aid", "Southside Legal Aid Society", ("Housing Law Unit",), (("Exposition Park Office", False),)),
    OrgSpec(INTAKE_ORG, "Crenshaw Community Health Center", ("Patient Intake",), (("Crenshaw Clinic", False),)),
    OrgSpec("valley-worksource", "Valley WorkSource Center", ("Career Navigators",), (("Van Nuys Career Center", False),)),
    OrgSpec("little-steps", "Little Steps Child Care Network", (), (("Resource & Referral Office", False),)),
    OrgSpec(CHILD_WELFARE_ORG, "County Department of Children and Family Services", ("Family Maintenance",),
            (("Compton Regional Office", False),)),
    OrgSpec(HOUSING_ORG, "Harbor Supportive Housing", ("Family Housing",), (("San Pedro Office", False),)),
)

# ---------------------------------------------------------------------------------------------
# Demo accounts: every one signs in with DEMO_PASSWORD
# ---------------------------------------------------------------------------------------------


class Member(NamedTuple):
    org: str
    role: Role
    team: str | None = None
    site: str | None = None


class AccountSpec(NamedTuple):
    local_part: str
    name: str
    memberships: tuple[Member, ...]


NAV, STAFF = Role.NAVIGATOR, Role.PROGRAM_STAFF

ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("seeker", "Jordan Rivera", ()),  # no membership: signs in as the seeker below
    AccountSpec("navigator", "Maya Castillo", (Member(NAVIGATOR_ORG, NAV, "Family Navigation", "Boyle Heights Office"),)),
    AccountSpec("navigator2", "Daniel Kim", (Member(NAVIGATOR_ORG, NAV, "Family Navigation", "Lincoln Heights Office"),)),
    AccountSpec("outreach", "Rosa Delgado", (Member(NAVIGATOR_ORG, NAV, "Street Outreach", TRACKING_SITE),)),
    AccountSpec("admin", "Helen Park", (Member(NAVIGATOR_ORG, Role.ADMIN),)),
    AccountSpec("intake", "Priya Shah", (Member(INTAKE_ORG, STAFF, "Patient Intake"),)),
    AccountSpec("ce", "Marcus Johnson", (Member(CE_LEAD_ORG, Role.CE_MANAGER, "Coordinated Entry"),)),
    AccountSpec(
        "multi",
        "Sam Okafor",
        (
            Member("southside-legal-aid", STAFF, "Housing Law Unit"),
            Member("valley-worksource", NAV, "Career Navigators", "Van Nuys Career Center"),
        ),
    ),
    AccountSpec("foodbank", "Teresa Nguyen", (Member("harbor-food-bank", STAFF, "Pantry Network"),)),
    AccountSpec("housing", "Luis Ortega", (Member(CE_LEAD_ORG, STAFF, "Coordinated Entry"),)),
    AccountSpec("workforce", "Angela Brooks", (Member("valley-worksource", STAFF),)),
    AccountSpec("childcare", "Mei Lin", (Member("little-steps", STAFF),)),
    # Shared cases (_cases): the housing provider leads them, child welfare works them alongside.
    AccountSpec("caseworker", "Renee Alvarez", (Member(CHILD_WELFARE_ORG, NAV, "Family Maintenance", "Compton Regional Office"),)),
    AccountSpec("housing-cm", "Nora Bell", (Member(HOUSING_ORG, NAV, "Family Housing", "San Pedro Office"),)),
    AccountSpec("housing-admin", "Dana Whitfield", (Member(HOUSING_ORG, Role.ADMIN),)),
)
SEEKER_ACCOUNT = "seeker"

# ---------------------------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------------------------


def _question(key: str, label: str, *choices: str, required: bool = True) -> dict[str, Any]:
    """A screening question as programs store it; with no choices the answer is free text."""
    return {"key": key, "label": label, "required": required, "choices": list(choices)}


Q_HOUSEHOLD = _question("household_size", "How many people live in the household?")
Q_INCOME = _question("has_income", "Does anyone in the household have income?", "Yes", "No", required=False)
Q_SLEEP = _question(
    "sleeping_location",
    "Where did the seeker sleep last night?",
    *("Own or rented home", "With friends or family", "Shelter", "Vehicle", "Outdoors"),
)
Q_VETERAN = _question("veteran", "Has the seeker served in the U.S. armed forces?", "Yes", "No", required=False)
Q_NOTICE = _question(
    "notice_type",
    "What did the tenant receive from the landlord?",
    *("3-day notice to pay or quit", "30/60/90-day notice", "Court papers (unlawful detainer)", "Other"),
)
Q_COURT_DATE = _question("court_date", "Is there a court date? If so, when?", required=False)
Q_COVERAGE = _question(
    "coverage",
    "What health coverage does the seeker have?",
    *("Medi-Cal", "Medicare", "Private insurance", "None", "Not sure"),
)
Q_LANGUAGE = _question(
    "language",
    "Preferred language for appointments",
    *("English", "Spanish", "Korean", "Tagalog", "Armenian", "Other"),
    required=False,
)
Q_CHILD_AGES = _question("child_ages", "Ages of the children who need care")
Q_WORK = _question("work_status", "Is the seeker working right now?", "Not working", "Part-time", "Full-time")

SCREENERS: dict[str, list[dict[str, Any]]] = {
    "household": [Q_HOUSEHOLD, Q_INCOME],
    "housing": [Q_HOUSEHOLD, Q_SLEEP, Q_VETERAN],
    "rent": [Q_HOUSEHOLD, Q_INCOME, Q_NOTICE],
    "eviction": [Q_NOTICE, Q_COURT_DATE],
    "clinic": [Q_COVERAGE, Q_LANGUAGE],
    "child_care": [Q_CHILD_AGES, Q_WORK, Q_INCOME],
    "job_training": [Q_WORK, Q_VETERAN],
}
# Answers to the free-text questions; choice questions pick one of their choices.
FREE_TEXT_ANSWERS: dict[str, tuple[str, ...]] = {
    "household_size": ("1", "2", "3", "4", "5", "6"),
    "court_date": ("No court date yet", "Next Tuesday at 8:30am", "In about two weeks", "Not sure"),
    "child_ages": ("4", "2 and 6", "8 months", "3, 7 and 10", "5"),
}

EASTSIDE = ("90022", "90023", "90031", "90032", "90033", "90063")
SOUTH_LA = ("90001", "90002", "90003", "90011", "90037", "90044", "90047", "90061")
CRENSHAW = ("90008", "90016", "90018", "90043", "90056")
HARBOR = ("90247", "90248", "90501", "90502", "90710")
VALLEY = ("91401", "91402", "91405", "91406", "91411")


class ProgramSpec(NamedTuple):
    org: str
    name: str
    categories: tuple[ProgramCategory, ...]
    mode: ConnectMode
    description: str
    eligibility: str
    ages: tuple[int | None, int | None] = (None, None)
    zips: tuple[str, ...] = ()  # none: serves everywhere
    screener: str | None = None  # a key of SCREENERS
    url_path: str | None = None  # EXTERNAL programs: where contact happens instead


PROGRAMS: tuple[ProgramSpec, ...] = (
    # Harbor Gateway Food Bank
    ProgramSpec("harbor-food-bank", "Weekly Food Pantry", (C.FOOD,), M.REFER,
                "Groceries once a week: produce, dairy, bread and shelf-stable staples, chosen client-choice style.",
                "Any household in need; bring a bag. No ID or proof of income required.", screener="household"),
    ProgramSpec("harbor-food-bank", "Senior Grocery Box", (C.FOOD,), M.APPLY,
                "A monthly box of nutritious staples for older adults (the Commodity Supplemental Food Program).",
                "Age 60 or older with household income at or below 130% of the federal poverty level.",
                ages=(60, None), zips=HARBOR + SOUTH_LA, screener="household"),
    ProgramSpec("harbor-food-bank", "Mobile Pantry", (C.FOOD,), M.SCHEDULE,
                "A refrigerated truck that sets up at schools and parks twice a month; pick a stop and a time.",
                "Open to anyone living near a stop.", zips=HARBOR + SOUTH_LA + CRENSHAW),
    ProgramSpec("harbor-food-bank", "CalFresh Application Help", (C.FOOD,), M.SCHEDULE,
                "One-on-one help applying for CalFresh food benefits, by phone or in person, in English and Spanish.",
                "California residents; most people with low income qualify, including working families.",
                screener="household"),
    ProgramSpec("harbor-food-bank", "Home-Delivered Groceries", (C.FOOD, C.HEALTH), M.REFER,
                "Volunteers deliver a grocery box every other week to adults who cannot get to a pantry.",
                "Adults who are homebound because of illness or disability.", ages=(18, None), zips=HARBOR),
    ProgramSpec("harbor-food-bank", "Community Hot Meals", (C.FOOD,), M.CONTACT,
                "Free hot lunch on weekdays at the Gardena site; call ahead for large groups.",
                "Everyone is welcome."),
    ProgramSpec("harbor-food-bank", "Kids Summer Meals", (C.FOOD, C.CHILD_CARE), M.EXTERNAL,
                "Free breakfast and lunch at summer sites while school is out; find a site near you online.",
                "Children and teens 18 and under.", ages=(None, 18), url_path="summer-meals"),
    # Metro Housing Authority (the CoC's Coordinated Entry lead)
    ProgramSpec(CE_LEAD_ORG, "Coordinated Entry Access Point", (C.HOUSING,), M.REFER,
                "The front door to homeless housing in the CoC: an assessment that places the household on the priority list.",
                "People experiencing or at imminent risk of homelessness.", screener="housing"),
    ProgramSpec(CE_LEAD_ORG, "Emergency Shelter Bed", (C.HOUSING,), M.REFER,
                "Same-day shelter beds for single adults and families; staff confirm a bed by phone.",
                "Anyone without a safe place to sleep tonight.", screener="housing"),
    ProgramSpec(CE_LEAD_ORG, "Rapid Re-Housing", (C.HOUSING,), M.APPLY,
                "Short-term rental assistance and case management to move quickly from homelessness into an apartment.",
                "Households experiencing homelessness, referred through Coordinated Entry."),
    ProgramSpec(CE_LEAD_ORG, "Permanent Supportive Housing", (C.HOUSING, C.HEALTH), M.APPLY,
                "Long-term housing with on-site services for people with disabilities who have been homeless a long time.",
                "Chronically homeless adults with a disabling condition; matched from the priority list."),
    ProgramSpec(CE_LEAD_ORG, "Rental Arrears Assistance", (C.HOUSING,), M.APPLY,
                "One-time help with back rent to stop an eviction, paid directly to the landlord.",
                "Renters with a past-due balance and household income at or below 80% of area median income.",
                screener="rent"),
    ProgramSpec(CE_LEAD_ORG, "Youth Transitional Housing", (C.HOUSING,), M.REFER,
                "Up to 24 months of housing with life-skills coaching for young adults.",
                "Ages 18 to 24 who are homeless or leaving foster care.", ages=(18, 24)),
    ProgramSpec(CE_LEAD_ORG, "Housing Choice Voucher Waitlist", (C.HOUSING,), M.EXTERNAL,
                "Section 8 vouchers help pay rent in the private market; applications open online when the waitlist opens.",
                "Income at or below 50% of area median income.", url_path="section-8-waitlist"),
    ProgramSpec(CE_LEAD_ORG, "Utility Bill Assistance", (C.HOUSING,), M.EXTERNAL,
                "Once-a-year help with gas and electric bills (LIHEAP), applied for online.",
                "Households at or below 60% of state median income.", url_path="utility-assistance"),
    # Southside Legal Aid Society
    ProgramSpec("southside-legal-aid", "Eviction Defense", (C.LEGAL, C.HOUSING), M.REFER,
                "Free lawyers for tenants facing eviction, from the first notice through trial.",
                "Tenants in the city of Los Angeles with income at or below 80% of area median income.",
                zips=SOUTH_LA + CRENSHAW + EASTSIDE, screener="eviction"),
    ProgramSpec("southside-legal-aid", "Immigration Legal Services", (C.LEGAL,), M.SCHEDULE,
                "Consultations and representation for DACA renewals, green cards, U visas and asylum.",
                "Low-income immigrants; no one is turned away for status."),
    ProgramSpec("southside-legal-aid", "Record Clearing Clinic", (C.LEGAL, C.EMPLOYMENT), M.SCHEDULE,
                "Expungements and Prop 47 reductions so that an old record stops blocking jobs and housing.",
                "Adults with a California conviction.", ages=(18, None)),
    ProgramSpec("southside-legal-aid", "Public Benefits Advocacy", (C.LEGAL,), M.CONTACT,
                "Help with denied or cut-off CalFresh, Medi-Cal, SSI and CalWORKs benefits, including hearings.",
                "Low-income Los Angeles County residents."),
    ProgramSpec("southside-legal-aid", "Domestic Violence Restraining Orders", (C.LEGAL,), M.CONTACT,
                "Safety planning and help filing for a restraining order, with a same-day option for emergencies.",
                "Survivors of domestic violence; confidential."),
    ProgramSpec("southside-legal-aid", "Self-Help Legal Center", (C.LEGAL,), M.EXTERNAL,
                "Forms, videos and workshop sign-ups for people handling their own civil case.",
                "Open to all.", url_path="self-help"),
    ProgramSpec("southside-legal-aid", "Senior Legal Hotline", (C.LEGAL,), M.EXTERNAL,
                "Free phone advice on elder abuse, wills, benefits and consumer debt.",
                "Age 60 or older.", ages=(60, None), url_path="senior-hotline"),
    # Crenshaw Community Health Center
    ProgramSpec(INTAKE_ORG, "Primary Care for New Patients", (C.HEALTH,), M.SCHEDULE,
                "A first visit with a doctor or nurse practitioner, with follow-up care at the clinic.",
                "Everyone, insured or not; fees on a sliding scale.", screener="clinic"),
    ProgramSpec(INTAKE_ORG, "Behavioral Health Intake", (C.HEALTH,), M.REFER,
                "Counseling and psychiatry for depression, anxiety and trauma; an intake clinician calls within two days.",
                "Patients of any age; children with a parent or guardian.", zips=CRENSHAW + SOUTH_LA),
    ProgramSpec(INTAKE_ORG, "Medi-Cal Enrollment Help", (C.HEALTH,), M.APPLY,
                "Certified enrollment counselors apply for Medi-Cal with you and follow up until coverage starts.",
                "California residents with low income, regardless of immigration status."),
    ProgramSpec(INTAKE_ORG, "Dental Clinic", (C.HEALTH,), M.SCHEDULE,
                "Cleanings, fillings and extractions; emergency slots every morning.",
                "Ages 3 and up; Denti-Cal accepted.", ages=(3, None), screener="clinic"),
    ProgramSpec(INTAKE_ORG, "Prenatal Care", (C.HEALTH, C.CHILD_CARE), M.REFER,
                "Care through pregnancy with a midwife team, plus classes and a diaper bank.",
                "Pregnant people of any age.", zips=CRENSHAW + SOUTH_LA),
    ProgramSpec(INTAKE_ORG, "Substance Use Treatment", (C.HEALTH,), M.REFER,
                "Outpatient treatment, including medication for opioid use disorder, with same-week starts.",
                "Adults 18 and older.", ages=(18, None)),
    ProgramSpec(INTAKE_ORG, "Rides to Medical Appointments", (C.TRANSPORTATION, C.HEALTH), M.REFER,
                "Free van rides to and from appointments at the clinic and at partner hospitals.",
                "Clinic patients without a car or a reliable ride.", zips=CRENSHAW),
    ProgramSpec(INTAKE_ORG, "Covered California Enrollment", (C.HEALTH,), M.EXTERNAL,
                "Compare and buy subsidized health plans online during open enrollment or after a life change.",
                "California residents who do not qualify for Medi-Cal.", url_path="covered-california"),
    # Valley WorkSource Center
    ProgramSpec("valley-worksource", "Job Search Assistance", (C.EMPLOYMENT,), M.CONTACT,
                "A career advisor helps with job leads, applications and follow-up, in person or by phone.",
                "Job seekers 18 and older.", ages=(18, None), zips=VALLEY),
    ProgramSpec("valley-worksource", "Paid Job Training", (C.EMPLOYMENT,), M.APPLY,
                "Paid training in healthcare, logistics and the building trades, with a job placement at the end (WIOA).",
                "Adults 18 and older who are unemployed or underemployed.", ages=(18, None), screener="job_training"),
    ProgramSpec("valley-worksource", "Youth Employment Program", (C.EMPLOYMENT,), M.APPLY,
                "Summer and year-round paid work experience with a mentor.",
                "Ages 14 to 24.", ages=(14, 24), zips=VALLEY),
    ProgramSpec("valley-worksource", "Resume & Interview Workshop", (C.EMPLOYMENT,), M.SCHEDULE,
                "A two-hour workshop every Wednesday; leave with a finished resume.",
                "Anyone looking for work."),
    ProgramSpec("valley-worksource", "Bus Passes for Job Seekers", (C.TRANSPORTATION, C.EMPLOYMENT), M.REFER,
                "A monthly transit pass while job searching or during the first month of a new job.",
                "Enrolled WorkSource customers.", zips=VALLEY),
    ProgramSpec("valley-worksource", "Online Job Board", (C.EMPLOYMENT,), M.EXTERNAL,
                "Local openings from employers who partner with the WorkSource Center.",
                "Open to all.", url_path="jobs"),
    # Little Steps Child Care Network
    ProgramSpec("little-steps", "Child Care Subsidy", (C.CHILD_CARE,), M.APPLY,
                "Help paying for licensed child care while parents work, study or look for work.",
                "Families with income at or below 85% of state median income and a need for care.",
                screener="child_care"),
    ProgramSpec("little-steps", "Head Start Preschool", (C.CHILD_CARE,), M.APPLY,
                "Free preschool with meals, health screenings and family support.",
                "Children from birth to age 5 in families with low income.", ages=(None, 5), zips=SOUTH_LA + EASTSIDE),
    ProgramSpec("little-steps", "After-School Program", (C.CHILD_CARE,), M.REFER,
                "Homework help, sports and arts until 6pm on school days.",
                "Children ages 5 to 12.", ages=(5, 12), screener="child_care"),
    ProgramSpec("little-steps", "Child Care Provider Search", (C.CHILD_CARE,), M.EXTERNAL,
                "Search licensed centers and family child care homes with openings near you.",
                "Open to all families.", url_path="find-care"),
    # Eastside Family Resource Center (the navigator agency runs a few programs of its own)
    ProgramSpec(NAVIGATOR_ORG, "Diaper & Formula Pantry", (C.FOOD, C.CHILD_CARE), M.CONTACT,
                "Diapers, wipes and formula once a month for families with babies and toddlers.",
                "Families with children under 3.", zips=EASTSIDE),
    ProgramSpec(NAVIGATOR_ORG, "Transit Fare Assistance", (C.TRANSPORTATION,), M.REFER,
                "Loaded TAP cards for getting to appointments, interviews and school.",
                "Families enrolled with the resource center.", zips=EASTSIDE),
    ProgramSpec(NAVIGATOR_ORG, "Car Seat Safety Program", (C.TRANSPORTATION, C.CHILD_CARE), M.SCHEDULE,
                "A free car seat and a fitting with a certified technician.",
                "Expecting parents and families with children under 8.", zips=EASTSIDE),
    ProgramSpec(NAVIGATOR_ORG, "Paratransit Application Help", (C.TRANSPORTATION,), M.APPLY,
                "Help applying for door-to-door paratransit, including the in-person eligibility visit.",
                "Adults whose disability keeps them from using buses or trains.", ages=(18, None)),
    ProgramSpec(NAVIGATOR_ORG, "Reduced Fare Transit ID", (C.TRANSPORTATION,), M.EXTERNAL,
                "Reduced fares on buses and trains for seniors, people with disabilities and students; apply online.",
                "Seniors 62+, Medicare recipients, people with disabilities and K-12 students.", url_path="reduced-fare"),
)

# ---------------------------------------------------------------------------------------------
# Seekers
# ---------------------------------------------------------------------------------------------

DEMO_SEEKER = ("Jordan", "Rivera", "+13235550142", P.EMAIL)

SEEKER_NAMES: tuple[tuple[str, str], ...] = (
    ("Maria", "Hernandez"), ("Jose", "Ramirez"), ("Guadalupe", "Flores"), ("Luis", "Morales"), ("Ana", "Gutierrez"),
    ("Carlos", "Mendoza"), ("Sofia", "Castro"), ("Miguel", "Ortiz"), ("Yesenia", "Vargas"), ("Juan", "Salazar"),
    ("Keisha", "Washington"), ("Darnell", "Jackson"), ("Tamika", "Harris"), ("Andre", "Williams"), ("Latoya", "Robinson"),
    ("Jasmine", "Carter"), ("Terrence", "Mitchell"), ("Aaliyah", "Brooks"), ("DeShawn", "Coleman"), ("Brenda", "Thompson"),
    ("Minh", "Tran"), ("Linh", "Pham"), ("Hyun", "Cho"), ("Ji-yeon", "Park"), ("Armen", "Sarkisyan"),
    ("Ani", "Petrosyan"), ("Narek", "Hovhannisyan"), ("Maricel", "Santos"), ("Rodel", "Reyes"), ("Jocelyn", "Bautista"),
    ("Tyrone", "Davis"), ("Kevin", "Nguyen"), ("Ashley", "Martinez"), ("Michael", "Johnson"), ("Jennifer", "Alvarado"),
    ("Robert", "Miller"), ("Patricia", "Gonzalez"), ("David", "Cohen"), ("Samantha", "Lee"), ("Omar", "Haddad"),
    ("Fatima", "Rahman"), ("Yusuf", "Abdi"), ("Abebe", "Tesfaye"), ("Selam", "Girma"), ("Mei", "Wong"),
    ("Wei", "Zhang"), ("Rosa", "Chavez"), ("Ernesto", "Aguilar"), ("Lupe", "Navarro"), ("Daniela", "Rios"),
    ("Marisol", "Perez"), ("Antonio", "Cruz"), ("Imani", "Greene"), ("Malik", "Turner"), ("Shanice", "Porter"),
    ("Tuan", "Le"), ("Gloria", "Mejia"), ("Hector", "Fuentes"), ("Elena", "Dominguez"),
)
# (navigator, profiles they created, the needs their seekers tend to have, who else refers them)
CASELOADS: tuple[tuple[str, int, tuple[ProgramCategory, ...], tuple[str, ...]], ...] = (
    ("navigator", 20, (C.FOOD, C.HOUSING, C.HEALTH, C.CHILD_CARE, C.LEGAL), ("navigator2",)),
    ("navigator2", 16, (C.FOOD, C.HOUSING, C.HEALTH, C.CHILD_CARE, C.TRANSPORTATION), ("navigator",)),
    ("outreach", 12, (C.HOUSING, C.FOOD, C.HEALTH, C.TRANSPORTATION), ("navigator", "navigator2")),
    ("multi", 11, (C.EMPLOYMENT, C.TRANSPORTATION, C.CHILD_CARE, C.LEGAL), ("navigator",)),
)
AREA_CODES = ("213", "323", "310", "818", "424")
PREFERENCE_WEIGHTS = {P.EMAIL: 35, P.TEXT: 30, P.PHONE: 15, P.NONE: 20}
# Chance of having each detail, by preference (the preferred one is always there).
EMAIL_CHANCE = {P.EMAIL: 1.0, P.TEXT: 0.4, P.PHONE: 0.2, P.NONE: 0.3}
PHONE_CHANCE = {P.EMAIL: 0.5, P.TEXT: 1.0, P.PHONE: 1.0, P.NONE: 0.4}

# ---------------------------------------------------------------------------------------------
# Referrals: scripted ones for the demo seeker, then statuses, paths, notes and comments
# ---------------------------------------------------------------------------------------------

# (referrer or None for a self-referral, program, current status, days ago)
DEMO_SEEKER_REFERRALS: tuple[tuple[str | None, str, ReferralStatus, float], ...] = (
    ("outreach", "Emergency Shelter Bed", S.NO_CAPACITY, 52.0),
    ("navigator", "Weekly Food Pantry", S.GOT_HELP, 45.0),
    ("navigator", "Rental Arrears Assistance", S.PENDING, 30.0),
    ("navigator", "Housing Choice Voucher Waitlist", S.NEEDS_CLIENT_ACTION, 29.9),
    ("navigator2", "Eviction Defense", S.ELIGIBLE, 20.0),
    (None, "Job Search Assistance", S.NO_LONGER_INTERESTED, 12.0),
    (None, "Covered California Enrollment", S.NOT_UPDATED, 3.0),
    (None, "Primary Care for New Patients", S.NOT_UPDATED, 0.8),
)
# One seeker who asked not to be contacted, referred to the intake organization this morning.
NO_CONTACT_REFERRAL = ("Behavioral Health Intake", 0.3)

RECENT_STATUS_WEIGHTS = {S.NOT_UPDATED: 6, S.NEEDS_CLIENT_ACTION: 2, S.PENDING: 2}
STATUS_WEIGHTS = {
    S.NOT_UPDATED: 2, S.NEEDS_CLIENT_ACTION: 2, S.PENDING: 3, S.REFERRED_ELSEWHERE: 1, S.ELIGIBLE: 2, S.GOT_HELP: 5,
    S.COULDNT_GET_HELP: 1, S.COULDNT_CONTACT: 2, S.NOT_ELIGIBLE: 1, S.NO_CAPACITY: 1, S.NO_LONGER_INTERESTED: 1,
}
# Plausible ways from NOT_UPDATED to each status (the steps after creation).
PATHS: dict[ReferralStatus, tuple[tuple[ReferralStatus, ...], ...]] = {
    S.NOT_UPDATED: ((),),
    S.NEEDS_CLIENT_ACTION: ((S.NEEDS_CLIENT_ACTION,),),
    S.PENDING: ((S.PENDING,), (S.NEEDS_CLIENT_ACTION, S.PENDING)),
    S.REFERRED_ELSEWHERE: ((S.REFERRED_ELSEWHERE,), (S.PENDING, S.REFERRED_ELSEWHERE)),
    S.ELIGIBLE: ((S.PENDING, S.ELIGIBLE), (S.ELIGIBLE,)),
    S.GOT_HELP: ((S.GOT_HELP,), (S.PENDING, S.GOT_HELP), (S.PENDING, S.ELIGIBLE, S.GOT_HELP)),
    S.COULDNT_GET_HELP: ((S.PENDING, S.COULDNT_GET_HELP), (S.COULDNT_GET_HELP,)),
    S.COULDNT_CONTACT: ((S.COULDNT_CONTACT,), (S.NEEDS_CLIENT_ACTION, S.COULDNT_CONTACT)),
    S.NOT_ELIGIBLE: ((S.PENDING, S.NOT_ELIGIBLE), (S.NOT_ELIGIBLE,)),
    S.NO_CAPACITY: ((S.NO_CAPACITY,), (S.PENDING, S.NO_CAPACITY)),
    S.NO_LONGER_INTERESTED: ((S.NO_LONGER_INTERESTED,), (S.NEEDS_CLIENT_ACTION, S.NO_LONGER_INTERESTED)),
}
# Statuses the referring side (navigator or seeker) sets; the program side sets the rest of a live referral's.
REFERRER_SIDE_STATUSES = {S.NO_LONGER_INTERESTED, S.COULDNT_GET_HELP}
NOTES: dict[ReferralStatus, tuple[str | None, ...]] = {
    S.NEEDS_CLIENT_ACTION: (
        "Left a voicemail asking {first} to call back to finish intake.",
        "{first} needs to bring ID and proof of address.",
        "Sent the application link; waiting on {first} to complete it.",
        None,
    ),
    S.PENDING: (
        "Intake scheduled; waiting on documents.",
        "Application received and in review.",
        "On the list for the next available appointment.",
        None,
    ),
    S.REFERRED_ELSEWHERE: (
        "Outside our service area; referred to a partner closer to home.",
        "Better fit with another program; passed along with {first}'s permission.",
    ),
    S.ELIGIBLE: ("Eligibility confirmed.", "Meets all criteria; next step is enrollment.", None),
    S.GOT_HELP: (
        "Enrolled and receiving services.",
        "{first} started services this week.",
        "Appointment completed.",
        "Case closed: services delivered.",
        None,
    ),
    S.COULDNT_GET_HELP: ("The program could not help with this need.", "Waitlist closed before {first} could apply."),
    S.COULDNT_CONTACT: (
        "Three calls and a text, no answer.",
        "Phone number disconnected; no other contact on file.",
        None,
    ),
    S.NOT_ELIGIBLE: ("Income over the limit.", "Outside the age range for this program.", "Lives outside the service area."),
    S.NO_CAPACITY: (
        "No openings this month; try again on the 1st.",
        "Waitlist is full.",
        "No space today; we will call when a spot opens.",
    ),
    S.NO_LONGER_INTERESTED: ("{first} found help elsewhere.", "{first} decided not to continue.", None),
}
NAVIGATOR_COMMENTS = (
    "{first} prefers calls after 3pm.",
    "Spanish-speaking household; please offer an interpreter.",
    "Checked in with {first} today; still interested.",
    "{first} has a job interview Thursday morning, so please avoid that time.",
    "Housing is the top priority right now.",
    "Following up on this next week.",
)
PROGRAM_COMMENTS = (
    "Thanks for the referral. We'll reach out within two business days.",
    "We have openings next week.",
    "Please have {first} bring a photo ID and proof of address.",
    "Reached {first} and scheduled intake.",
    "We can only serve households in our service area; confirming the address.",
)
SEEKER_COMMENTS = (
    "Thank you! I'll call them tomorrow.",
    "Is there a time in the evening that works?",
    "I sent the documents they asked for.",
)

# ---------------------------------------------------------------------------------------------
# The seed
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedSummary:
    """How many rows of each kind the seed made (all zero when it had nothing to do)."""

    organizations: int = 0
    programs: int = 0
    seekers: int = 0
    referrals: int = 0
    users: int = 0


@dataclass(frozen=True)
class _Acting:
    """A referrer as they act when referring: their user and navigator membership."""

    user: User
    organization_id: int
    team_id: int | None
    site: Site | None


@dataclass
class _Network:
    """What later stages look rows up by, while the seed runs."""

    users: dict[str, User]
    acting: dict[str, _Acting]
    program_staff: dict[int, User]  # organization id -> who updates its live referrals
    programs: dict[str, Program]


def demo_email(local_part: str) -> str:
    return f"{local_part}@{DEMO_DOMAIN}"


async def seed_demo(db: Database, *, if_empty: bool = False) -> SeedSummary:
    """Load the demo network in one transaction; refuses to run outside development."""
    if not Settings.from_env().is_development:
        raise RuntimeError("the demo seed runs only in development (REFERLOOP_ENV=development)")
    password_hash = await asyncio.to_thread(PasswordHasher().hash, DEMO_PASSWORD)  # once: argon2 is slow on purpose
    rng = random.Random(RANDOM_SEED)
    now = utcnow()
    async with db.write() as session:
        if if_empty and await session.scalar(select(func.count()).select_from(Organization)):
            return SeedSummary()
        if await session.scalar(select(User.id).where(User.email.like(f"%@{DEMO_DOMAIN}")).limit(1)) is not None:
            raise RuntimeError("the demo network is already loaded in this database")
        orgs = await _organizations(session, now)
        teams, sites = await _teams_and_sites(session, orgs)
        users = await _users(session, orgs, teams, sites, password_hash, now)
        net = _Network(
            users=users,
            acting=_acting_referrers(orgs, teams, sites, users),
            program_staff=_program_staff(orgs, users),
            programs=await _programs(session, orgs, now),
        )
        seekers = _seekers(session, rng, net)
        referrals, events = await _referrals(session, rng, net, seekers, now)
        ce = await _coordinated_entry(session, net, orgs, teams, now)
        cases = await _cases(session, net, orgs, now)
        week = sorted((e for e in [*events, *ce.events, *cases.events] if e["at"] >= now - EVENT_WINDOW), key=lambda e: e["at"])
        await session.execute(insert(OutboxEvent), week)
        return SeedSummary(
            organizations=len(orgs),
            programs=len(net.programs),
            seekers=len(seekers) + ce.seekers + cases.seekers,
            referrals=len(referrals) + ce.referrals,
            users=len(users),
        )


async def _organizations(session: AsyncSession, now: datetime) -> dict[str, Organization]:
    """The CoC (reused if it exists) and every organization in it."""
    code, name = COC
    coc = await session.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == code))
    if coc is None:
        coc = ContinuumOfCare(code=code, name=name)
        session.add(coc)
        await session.flush()
    orgs = {
        spec.slug: Organization(name=spec.name, coc_id=coc.id, created_at=now - timedelta(days=180),
                                child_welfare=spec.slug == CHILD_WELFARE_ORG, housing=spec.slug == HOUSING_ORG)
        for spec in ORGANIZATIONS
    }
    session.add_all(orgs.values())
    await session.flush()
    return orgs


async def _teams_and_sites(
    session: AsyncSession, orgs: dict[str, Organization]
) -> tuple[dict[tuple[str, str], Team], dict[tuple[str, str], Site]]:
    teams = {
        (spec.slug, name): Team(organization_id=orgs[spec.slug].id, name=name)
        for spec in ORGANIZATIONS
        for name in spec.teams
    }
    sites = {
        (spec.slug, name): Site(organization_id=orgs[spec.slug].id, name=name, tracking_only=tracking_only)
        for spec in ORGANIZATIONS
        for name, tracking_only in spec.sites
    }
    session.add_all([*teams.values(), *sites.values()])
    await session.flush()
    return teams, sites


async def _users(
    session: AsyncSession,
    orgs: dict[str, Organization],
    teams: dict[tuple[str, str], Team],
    sites: dict[tuple[str, str], Site],
    password_hash: str,
    now: datetime,
) -> dict[str, User]:
    """The demo accounts and their memberships; each acts in its first membership."""
    users: dict[str, User] = {}
    for spec in ACCOUNTS:
        first = spec.memberships[0].org if spec.memberships else None
        users[spec.local_part] = User(
            email=demo_email(spec.local_part),
            name=spec.name,
            password_hash=password_hash,
            acting_organization_id=orgs[first].id if first else None,
            created_at=now - timedelta(days=14 if spec.local_part == SEEKER_ACCOUNT else 150),
        )
    session.add_all(users.values())
    await session.flush()
    for spec in ACCOUNTS:
        for m in spec.memberships:
            session.add(
                Membership(
                    user_id=users[spec.local_part].id,
                    organization_id=orgs[m.org].id,
                    role=m.role,
                    team_id=teams[(m.org, m.team)].id if m.team else None,
                    site_id=sites[(m.org, m.site)].id if m.site else None,
                )
            )
    await session.flush()
    return users


def _acting_referrers(
    orgs: dict[str, Organization],
    teams: dict[tuple[str, str], Team],
    sites: dict[tuple[str, str], Site],
    users: dict[str, User],
) -> dict[str, _Acting]:
    """Every account with a navigator membership, as it acts when it refers."""
    acting: dict[str, _Acting] = {}
    for spec in ACCOUNTS:
        for m in spec.memberships:
            if m.role is Role.NAVIGATOR:
                acting[spec.local_part] = _Acting(
                    user=users[spec.local_part],
                    organization_id=orgs[m.org].id,
                    team_id=teams[(m.org, m.team)].id if m.team else None,
                    site=sites[(m.org, m.site)] if m.site else None,
                )
    return acting


def _program_staff(orgs: dict[str, Organization], users: dict[str, User]) -> dict[int, User]:
    """Who updates each organization's live referrals: its program staff, else its admin."""
    staff: dict[int, User] = {}
    for role in (Role.ADMIN, Role.PROGRAM_STAFF):  # program staff win where both exist
        for spec in ACCOUNTS:
            for m in spec.memberships:
                if m.role is role:
                    staff[orgs[m.org].id] = users[spec.local_part]
    return staff


# Where each organization's programs are delivered (its first site), as HSDS addresses; made-up
# street numbers on real Los Angeles streets, 555 phone numbers.
ORG_ADDRESSES: dict[str, tuple[str, str, str, str]] = {
    NAVIGATOR_ORG: ("2601 E Cesar E Chavez Ave", "Los Angeles", "90033", "Boyle Heights Office"),
    "harbor-food-bank": ("1420 W Rosecrans Ave", "Gardena", "90247", "Gardena Distribution Center"),
    CE_LEAD_ORG: ("315 S Broadway", "Los Angeles", "90013", "Downtown Access Center"),
    "southside-legal-aid": ("3900 S Figueroa St", "Los Angeles", "90037", "Exposition Park Office"),
    INTAKE_ORG: ("3731 Crenshaw Blvd", "Los Angeles", "90016", "Crenshaw Clinic"),
    "valley-worksource": ("6851 Van Nuys Blvd", "Van Nuys", "91405", "Van Nuys Career Center"),
    "little-steps": ("8110 S Western Ave", "Los Angeles", "90047", "Resource & Referral Office"),
    CHILD_WELFARE_ORG: ("101 W Compton Blvd", "Compton", "90220", "Compton Regional Office"),
    HOUSING_ORG: ("470 W 7th St", "San Pedro", "90731", "San Pedro Office"),
}
# (byday, opens_at, closes_at) rules, or a description; the demo's programs take them in turn.
HOURS: tuple[tuple[str, str, str] | str, ...] = (
    ("MO,TU,WE,TH,FR", "09:00", "17:00"),
    ("MO,WE,FR", "10:00", "14:00"),
    ("TU,TH", "08:30", "16:30"),
    ("MO,TU,WE,TH,FR", "08:00", "18:00"),
    "By appointment; call to book a time.",
)
LANGUAGES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("English", "en"), ("Spanish", "es")),
    (("English", "en"),),
    (("English", "en"), ("Spanish", "es"), ("Korean", "ko")),
    (("English", "en"), ("Spanish", "es"), ("Tagalog", "tl")),
)


def _directory_details(program: Program, spec: ProgramSpec, index: int) -> None:
    """An HSDS location with its address, a phone with its languages, hours and languages for a demo program."""
    street, city, postal_code, site = ORG_ADDRESSES.get(spec.org, ("200 N Spring St", "Los Angeles", "90012", "Main office"))
    address = Address(address_1=street, city=city, state_province="CA", postal_code=postal_code, country="US")
    program.locations = [Location(location_type="physical", name=site, addresses=[address])]
    languages = LANGUAGES[index % len(LANGUAGES)]
    phone = Phone(
        number=f"(213) 555-{1000 + index * 37 % 9000:04d}",
        type="voice",
        languages=[Language(name=name, code=code) for name, code in languages],
    )
    program.phones = [phone]
    hours = HOURS[index % len(HOURS)]
    if isinstance(hours, str):
        program.schedules = [Schedule(description=hours)]
    else:
        byday, opens_at, closes_at = hours
        program.schedules = [Schedule(freq="WEEKLY", byday=byday, opens_at=opens_at, closes_at=closes_at)]
    program.languages = [Language(name=name, code=code) for name, code in languages]


async def _programs(session: AsyncSession, orgs: dict[str, Organization], now: datetime) -> dict[str, Program]:
    return await _programs_of(session, orgs, PROGRAMS, now)


async def _programs_of(
    session: AsyncSession, orgs: dict[str, Organization], specs: Sequence[ProgramSpec], now: datetime
) -> dict[str, Program]:
    programs: dict[str, Program] = {}
    for index, spec in enumerate(specs):
        external = spec.mode is ConnectMode.EXTERNAL
        program = Program(
            organization_id=orgs[spec.org].id,
            name=spec.name,
            description=spec.description,
            connect_mode=spec.mode,
            external_url=f"https://{spec.org}.example.org/{spec.url_path}" if external else None,
            contact_emails=[] if external else [f"intake@{spec.org}.example.org"],
            screener=[dict(q) for q in SCREENERS[spec.screener]] if spec.screener else [],
            eligibility=spec.eligibility,
            min_age=spec.ages[0],
            max_age=spec.ages[1],
            is_active=True,
            created_at=now - timedelta(days=120),
        )
        program.categories = [ProgramCategoryTag(category=c) for c in spec.categories]
        program.service_areas = [ProgramServiceArea(postal_code=z) for z in spec.zips]
        _directory_details(program, spec, index + (len(PROGRAMS) if specs is not PROGRAMS else 0))
        programs[spec.name] = program
    session.add_all(programs.values())
    await session.flush()
    return programs


def _phone(index: int) -> str:
    """E.164, in the 555-01xx range that is set aside for fiction (and valid for `phonenumbers`)."""
    return f"+1{AREA_CODES[index % len(AREA_CODES)]}55501{index % 100:02d}"


def _seekers(session: AsyncSession, rng: random.Random, net: _Network) -> list[Seeker]:
    """The demo seeker (with an account) first, then the navigators' caseloads; timestamps come later."""
    first, last, phone, preference = DEMO_SEEKER
    seekers = [
        Seeker(
            user_id=net.users[SEEKER_ACCOUNT].id,
            first_name=first,
            last_name=last,
            email=demo_email(SEEKER_ACCOUNT),
            phone=phone,
            contact_preference=preference,
            created_by_user_id=net.users["outreach"].id,
        )
    ]
    creators = [navigator for navigator, count, _, _ in CASELOADS for _ in range(count)]
    if len(creators) != len(SEEKER_NAMES):
        raise AssertionError("CASELOADS must add up to the number of SEEKER_NAMES")
    preferences = list(PREFERENCE_WEIGHTS)
    for index, ((first, last), creator) in enumerate(zip(SEEKER_NAMES, creators)):
        if index < len(preferences):  # every preference, whatever the dice say
            preference = preferences[index]
        else:
            preference = rng.choices(preferences, weights=list(PREFERENCE_WEIGHTS.values()))[0]
        has_email = rng.random() < EMAIL_CHANCE[preference]
        has_phone = rng.random() < PHONE_CHANCE[preference]
        seekers.append(
            Seeker(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}@example.com".lower() if has_email else None,
                phone=_phone(index) if has_phone else None,
                contact_preference=preference,
                created_by_user_id=net.users[creator].id,
            )
        )
    session.add_all(seekers)
    return seekers


@dataclass
class _Plan:
    """A referral before it becomes rows: who, what, when, and where it ended up."""

    seeker: Seeker
    program: Program
    referrer: str | None  # an acting navigator, or None for the seeker themself
    status: ReferralStatus
    days_ago: float


def _plans(rng: random.Random, net: _Network, seekers: list[Seeker]) -> list[_Plan]:
    """Which referrals exist: the demo seeker's scripted ones, then visits to each navigator's seekers."""
    demo, *others = seekers
    plans = [
        _Plan(demo, net.programs[program], referrer, status, days)
        for referrer, program, status, days in DEMO_SEEKER_REFERRALS
    ]
    by_category: dict[ProgramCategory, list[Program]] = {c: [] for c in ProgramCategory}
    for spec in PROGRAMS:
        for category in spec.categories:
            by_category[category].append(net.programs[spec.name])
    caseload = {navigator: (needs, handoffs) for navigator, _, needs, handoffs in CASELOADS}
    creator_of = {user.id: local for local, user in net.users.items()}

    for seeker in others:
        creator = creator_of[seeker.created_by_user_id or 0]
        needs, handoffs = caseload[creator]
        seeker_needs = rng.sample(needs, k=rng.randint(2, 3))
        count = rng.randint(2, 6)
        first_seen = rng.uniform(0.2, HISTORY_DAYS)
        visits = sorted((rng.uniform(0.05, first_seen) for _ in range(rng.randint(0, 2))), reverse=True)
        visit_days = [first_seen, *visits]
        used: set[str] = set()
        for n in range(count):
            visit = 0 if n == 0 else rng.randrange(len(visit_days))
            referrer = creator if visit == 0 or rng.random() < 0.8 else rng.choice(handoffs)
            program = rng.choice(by_category[rng.choice(seeker_needs)])
            if program.name in used:
                continue
            used.add(program.name)
            days = max(visit_days[visit] - n * rng.uniform(0.002, 0.01), 0.01)  # minutes apart within a visit
            plans.append(_Plan(seeker, program, referrer, _pick_status(rng, days), days))

    # Referred by their navigator from a normal site, so that the referral is live.
    quiet = next(
        s
        for s in others
        if s.contact_preference is ContactPreference.NONE
        and not _tracks_only(net.acting[creator_of[s.created_by_user_id or 0]])
    )
    program_name, days = NO_CONTACT_REFERRAL
    plans.append(_Plan(quiet, net.programs[program_name], creator_of[quiet.created_by_user_id or 0], S.NOT_UPDATED, days))
    return plans


def _tracks_only(acting: _Acting) -> bool:
    return acting.site is not None and acting.site.tracking_only


def _pick_status(rng: random.Random, days_ago: float) -> ReferralStatus:
    """Recent referrals are mostly untouched; older ones have mostly reached an outcome."""
    weights = RECENT_STATUS_WEIGHTS if days_ago < 3 else STATUS_WEIGHTS
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _screener_answers(rng: random.Random, program: Program) -> list[dict[str, Any]]:
    """Answers in question order; optional questions are sometimes skipped."""
    answers: list[dict[str, Any]] = []
    for question in program.screener:
        if not question["required"] and rng.random() < 0.25:
            continue
        value = rng.choice(question["choices"] or FREE_TEXT_ANSWERS[question["key"]])
        answers.append({"key": question["key"], "label": question["label"], "value": value})
    return answers


async def _referrals(
    session: AsyncSession, rng: random.Random, net: _Network, seekers: list[Seeker], now: datetime
) -> tuple[list[Referral], list[dict[str, Any]]]:
    """Every referral with its history and comments, oldest first so that ids follow time; and the week's events."""
    plans = sorted(_plans(rng, net, seekers), key=lambda plan: -plan.days_ago)
    seeker_user = net.users[SEEKER_ACCOUNT]
    referrals: list[Referral] = []
    changes: list[tuple[Referral, dict[str, Any]]] = []
    comments: list[tuple[Referral, dict[str, Any]]] = []
    first_activity: dict[int, datetime] = {}
    last_activity: dict[int, datetime] = {}
    for plan in plans:
        acting = net.acting[plan.referrer] if plan.referrer else None
        creator = acting.user if acting else seeker_user
        referral = _referral(rng, plan, acting, now)
        history = _history(rng, plan, referral, creator, net, now)
        notes = _comments(rng, plan, referral, creator, net, now)
        referral.version = len(history)  # the creation entry plus one per change
        referral.updated_at = max([referral.created_at, *(c["at"] for c in history), *(c["created_at"] for c in notes)])
        referrals.append(referral)
        changes.extend((referral, row) for row in history)
        comments.extend((referral, row) for row in notes)
        key = id(plan.seeker)
        first_activity[key] = min(first_activity.get(key, referral.created_at), referral.created_at)
        last_activity[key] = max(last_activity.get(key, referral.updated_at), referral.updated_at)
    for seeker in seekers:
        # The profile was made just before its first referral; updated_at is the latest activity.
        seeker.created_at = first_activity[id(seeker)] - timedelta(minutes=rng.randint(2, 20))
        seeker.updated_at = last_activity[id(seeker)]
    session.add_all(referrals)
    await session.flush()
    # History and comments need no ids back, so they go in as two multi-row statements, in time order.
    changes.sort(key=lambda pair: pair[1]["at"])
    comments.sort(key=lambda pair: pair[1]["created_at"])
    bulk = {"render_nulls": True}  # keep NULLs in the rows, or the ORM splits the batch wherever they differ
    for model, rows in ((StatusChange, changes), (Comment, comments)):
        await session.execute(insert(model), [{**row, "referral_id": r.id} for r, row in rows], execution_options=bulk)
    return referrals, _recent_events(changes, comments, since=now - EVENT_WINDOW)


def _recent_events(
    changes: list[tuple[Referral, dict[str, Any]]], comments: list[tuple[Referral, dict[str, Any]]], *, since: datetime
) -> list[dict[str, Any]]:
    """The outbox as the last week's activity would have left it, so live views have a past to show."""
    versions: dict[int, int] = {}
    events = []
    for r, row in changes:  # in time order, so each change's version is the one it produced
        versions[r.id] = versions.get(r.id, 0) + 1
        created = row["from_status"] is None
        change: dict[str, Any] = {"to": row["to_status"].name, "version": versions[r.id]}
        if created:
            change["referralKind"] = r.kind.name
        else:
            change.update({"from": row["from_status"].name, "note": row.get("note")})
        events.append(_event(r, EventKind.CREATED if created else EventKind.STATUS_CHANGED, row["at"], row.get("changed_by_user_id"), row["source"], change))
    for r, row in comments:
        change = {"comment": row["body"]}
        events.append(_event(r, EventKind.COMMENT_ADDED, row["created_at"], row.get("author_user_id"), ChangeSource.DASHBOARD, change))
    return sorted((e for e in events if e["at"] >= since), key=lambda e: e["at"])


def _event(
    r: Referral, kind: EventKind, at: datetime, actor: int | None, source: ChangeSource, change: dict[str, Any]
) -> dict[str, Any]:
    return {
        "subject_type": SubjectType.REFERRAL,
        "subject_id": r.id,
        "kind": kind,
        "actor_user_id": actor,
        "actor_organization_id": None,
        "source": source,
        "change": change,
        "at": at,
    }


def _referral(rng: random.Random, plan: _Plan, acting: _Acting | None, now: datetime) -> Referral:
    site = acting.site if acting else None
    kind = kind_for(plan.program, site)
    created_at = now - timedelta(days=plan.days_ago)
    live = kind is ReferralKind.LIVE
    return Referral(
        kind=kind,
        status=plan.status,
        seeker=plan.seeker,
        program=plan.program,
        program_organization_id=plan.program.organization_id,
        navigator=acting.user if acting else None,
        navigator_organization_id=acting.organization_id if acting else None,
        team_id=acting.team_id if acting else None,
        site=site,
        contact_preference=plan.seeker.contact_preference,
        consent=live,
        consent_at=created_at if live else None,
        screener_answers=_screener_answers(rng, plan.program) if live else [],
        created_at=created_at,
    )


def _history(
    rng: random.Random, plan: _Plan, referral: Referral, creator: User, net: _Network, now: datetime
) -> list[dict[str, Any]]:
    """The creation entry, then a plausible path to the current status, spread over the days since."""
    history: list[dict[str, Any]] = [
        {
            "from_status": None,
            "to_status": S.NOT_UPDATED,
            "note": None,
            "changed_by_user_id": creator.id,
            "source": ChangeSource.DASHBOARD,
            "at": referral.created_at,
        }
    ]
    path = rng.choice(PATHS[plan.status])
    window = min(plan.days_ago, 21.0)
    offsets = sorted(rng.uniform(0.02, 0.95) * window for _ in path)
    previous = S.NOT_UPDATED
    for status, offset in zip(path, offsets):
        changed_by, source = _who_changes(rng, referral, status, creator, net)
        note = rng.choice(NOTES[status])
        history.append(
            {
                "from_status": previous,
                "to_status": status,
                "note": note.format(first=plan.seeker.first_name) if note else None,
                "changed_by_user_id": changed_by.id if changed_by else None,
                "source": source,
                "at": min(referral.created_at + timedelta(days=offset), now),
            }
        )
        previous = status
    return history


def _who_changes(
    rng: random.Random, referral: Referral, status: ReferralStatus, creator: User, net: _Network
) -> tuple[User | None, ChangeSource]:
    """Program staff move live referrals along (sometimes from the notification email); otherwise the referrer."""
    if referral.kind is ReferralKind.LIVE and status not in REFERRER_SIDE_STATUSES:
        if rng.random() < 0.2:
            return None, ChangeSource.EMAIL  # a signed link in the program's notification email
        return net.program_staff[referral.program_organization_id], ChangeSource.DASHBOARD
    if referral.kind is ReferralKind.LOGGED and creator is not net.users[SEEKER_ACCOUNT] and rng.random() < 0.15:
        if referral.contact_preference is ContactPreference.EMAIL:  # the seeker, from the email about it
            return (net.users[SEEKER_ACCOUNT] if referral.seeker.user_id else None), ChangeSource.EMAIL
    return creator, ChangeSource.DASHBOARD


def _comments(
    rng: random.Random, plan: _Plan, referral: Referral, creator: User, net: _Network, now: datetime
) -> list[dict[str, Any]]:
    """Sometimes a note at creation; sometimes a later word from the navigator, the program or the seeker."""
    first = plan.seeker.first_name
    comments: list[dict[str, Any]] = []
    if referral.navigator is not None and rng.random() < 0.25:
        body = rng.choice(NAVIGATOR_COMMENTS).format(first=first)
        comments.append({"author_user_id": creator.id, "body": body, "created_at": referral.created_at})
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        authors: list[tuple[User, tuple[str, ...]]] = []
        if referral.navigator is not None:
            authors.append((referral.navigator, NAVIGATOR_COMMENTS))
        if referral.kind is ReferralKind.LIVE:
            authors.append((net.program_staff[referral.program_organization_id], PROGRAM_COMMENTS))
        if plan.seeker.user_id is not None and referral.kind is not ReferralKind.TRACKING_ONLY:
            authors.append((net.users[SEEKER_ACCOUNT], SEEKER_COMMENTS))
        author, bodies = rng.choice(authors)
        at = min(referral.created_at + timedelta(days=rng.uniform(0.01, min(plan.days_ago, 14.0))), now)
        comments.append({"author_user_id": author.id, "body": rng.choice(bodies).format(first=first), "created_at": at})
    return comments


# ---------------------------------------------------------------------------------------------
# Coordinated Entry: CA-600's housing programs, vacancies, assessed clients and CE referrals
# ---------------------------------------------------------------------------------------------
# Its own random stream, so that the referral network above is the same with or without it.
CE_RANDOM_SEED = 600
# HUD project types (2.02.6) of the programs above that take Coordinated Entry referrals.
HUD_PROJECT_TYPES: dict[str, int] = {
    "Emergency Shelter Bed": 0,
    "Youth Transitional Housing": 2,
    "Permanent Supportive Housing": 3,
    "Rapid Re-Housing": 13,
}
# More housing in the CoC, run by other organizations (the intake organization's included).
CE_PROGRAMS: tuple[tuple[ProgramSpec, int], ...] = (
    (ProgramSpec(INTAKE_ORG, "Crenshaw Supportive Housing", (C.HOUSING, C.HEALTH), M.APPLY,
                 "Apartments with on-site nursing and case management for chronically homeless patients.",
                 "Chronically homeless adults with a disabling health condition; matched through Coordinated Entry."), 3),
    (ProgramSpec(INTAKE_ORG, "Recuperative Care Shelter", (C.HOUSING, C.HEALTH), M.REFER,
                 "Short-term shelter beds for people leaving hospital who have nowhere safe to recover.",
                 "Adults experiencing homelessness who are discharged from a hospital."), 0),
    (ProgramSpec(NAVIGATOR_ORG, "Eastside Family Rapid Re-Housing", (C.HOUSING,), M.APPLY,
                 "Move-in costs and up to 12 months of rent for families with children, with a housing navigator.",
                 "Families with children experiencing homelessness, referred through Coordinated Entry."), 13),
    (ProgramSpec(CE_LEAD_ORG, "Metro Housing-Only Placement", (C.HOUSING,), M.APPLY,
                 "Permanent units set aside in affordable buildings, without required services.",
                 "Households experiencing homelessness, matched from the priority list."), 9),
)
# Open vacancies: (program, days since opened, bedrooms).
OPEN_VACANCIES: tuple[tuple[str, int, int], ...] = (
    ("Crenshaw Supportive Housing", 1, 1), ("Crenshaw Supportive Housing", 23, 1), ("Recuperative Care Shelter", 3, 1),
    ("Permanent Supportive Housing", 60, 1), ("Permanent Supportive Housing", 14, 2), ("Rapid Re-Housing", 9, 2),
    ("Rapid Re-Housing", 41, 1), ("Emergency Shelter Bed", 2, 1), ("Youth Transitional Housing", 18, 1),
    ("Eastside Family Rapid Re-Housing", 30, 3), ("Metro Housing-Only Placement", 6, 2), ("Metro Housing-Only Placement", 52, 1),
)
ASSESSED_CLIENTS = 104  # 100 stay on the list; the successful referrals below take the rest off


class CeReferralSpec(NamedTuple):
    vacancy: int | None  # an index into OPEN_VACANCIES, or None: a vacancy of its own that this referral fills
    program: str
    days_ago: int  # when the referral was made
    acknowledged_after: int | None  # days after the referral
    result: int | None  # 4.20.D
    resolved_after: int | None
    not_housed_reason: str | None = None


CE_REFERRALS: tuple[CeReferralSpec, ...] = (
    # Waiting for the provider to acknowledge, for various days.
    CeReferralSpec(0, "Crenshaw Supportive Housing", 0, None, None, None),
    CeReferralSpec(2, "Recuperative Care Shelter", 1, None, None, None),
    CeReferralSpec(5, "Rapid Re-Housing", 4, None, None, None),
    CeReferralSpec(4, "Permanent Supportive Housing", 8, None, None, None),
    CeReferralSpec(1, "Crenshaw Supportive Housing", 15, None, None, None),
    # Acknowledged, not yet resolved.
    CeReferralSpec(10, "Metro Housing-Only Placement", 5, 1, None, None),
    CeReferralSpec(8, "Youth Transitional Housing", 12, 2, None, None),
    CeReferralSpec(3, "Permanent Supportive Housing", 20, 3, None, None),
    # Resolved: housed (an enrollment with a move-in), each filling a vacancy of its own.
    CeReferralSpec(None, "Permanent Supportive Housing", 40, 2, 1, 10),
    CeReferralSpec(None, "Rapid Re-Housing", 25, 1, 1, 8),
    CeReferralSpec(None, "Crenshaw Supportive Housing", 18, 1, 1, 6),
    CeReferralSpec(None, "Emergency Shelter Bed", 3, 0, 1, 1),
    # Resolved without housing: the client rejected (2) or the provider did (3); one with the reason why.
    CeReferralSpec(6, "Rapid Re-Housing", 35, 2, 2, 5, "CLIENT_HOUSED_ELSEWHERE"),
    CeReferralSpec(11, "Metro Housing-Only Placement", 28, 1, 2, 4),
    CeReferralSpec(9, "Eastside Family Rapid Re-Housing", 22, 3, 3, 6),
    CeReferralSpec(1, "Crenshaw Supportive Housing", 21, 1, 3, 3),
)
# For the filled vacancies of the housed referrals: days open before the referral.
FILLED_VACANCY_LEAD_DAYS = 5
CE_LOCATION = "Downtown Access Center"

CE_FIRST_NAMES = (
    "Alicia", "Bernard", "Camila", "Dmitri", "Esperanza", "Franklin", "Graciela", "Harold", "Isabel", "Jamal",
    "Kiana", "Leonard", "Monique", "Nestor", "Olivia", "Percy", "Quiana", "Raul", "Shirley", "Thanh",
    "Ursula", "Victor", "Wanda", "Xavier", "Yolanda", "Zachary", "Arturo", "Bianca", "Cedric", "Dolores",
)
CE_LAST_NAMES = (
    "Acosta", "Bell", "Campos", "Dixon", "Espinoza", "Foster", "Garza", "Hughes", "Ibarra", "Jenkins",
    "Kaur", "Lopez", "Moreno", "Nash", "Owens", "Pacheco", "Quintero", "Russell", "Sandoval", "Tate",
    "Underwood", "Valencia", "Watts", "Yang", "Zamora", "Baker", "Cervantes", "Duarte",
)
RACES = ("AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican", "NativeHIPacific", "White")
RACE_WEIGHTS = (2, 6, 34, 36, 2, 1, 19)
HOUSEHOLD_WEIGHTS = {"INDIVIDUAL": 70, "FAMILY": 20, "YOUTH": 10}


@dataclass
class _Ce:
    """What the CE stage made: counts for the summary and the outbox events for the week."""

    seekers: int
    referrals: int
    events: list[dict[str, Any]]


def _ce_event(subject: SubjectType, subject_id: int, kind: EventKind, at: datetime, actor: User | None, org_id: int | None,
              change: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject_type": subject,
        "subject_id": subject_id,
        "kind": kind,
        "actor_user_id": actor.id if actor else None,
        "actor_organization_id": org_id if actor else None,
        "source": ChangeSource.DASHBOARD,
        "change": change,
        "at": at,
    }


def _hmis_client(rng: random.Random, index: int, household: str, today: date) -> dict[str, Any]:
    """A client's name and HMIS universal data elements, with the gaps real intake leaves."""
    first, last = CE_FIRST_NAMES[index % len(CE_FIRST_NAMES)], CE_LAST_NAMES[(index * 7) % len(CE_LAST_NAMES)]
    age = rng.randint(18, 24) if household == "YOUTH" else rng.randint(25, 72)
    dob_quality = rng.choices((1, 2, 8, 99), weights=(80, 12, 4, 4))[0]
    dob = None if dob_quality in (8, 99) else date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.06:
        races: list[str] = []
        race_none: int | None = rng.choice((8, 9))
    else:
        races = rng.choices(RACES, weights=RACE_WEIGHTS, k=rng.choice((1, 1, 1, 2)))
        races = sorted(set(races), key=RACES.index)
        race_none = None
    gender = rng.choices((["Woman"], ["Man"], ["NonBinary"], ["Woman", "Transgender"], []), weights=(40, 52, 3, 2, 3))[0]
    return {
        "first_name": first,
        "last_name": last,
        "name_data_quality": rng.choices((1, 2), weights=(92, 8))[0],
        "dob": dob,
        "dob_data_quality": dob_quality,
        "races": races,
        "race_none": race_none,
        "genders": list(gender),
        "gender_none": None if gender else 9,
        "veteran_status": 99 if household == "YOUTH" and rng.random() < 0.5 else rng.choices((0, 1, 8, 9), weights=(80, 14, 3, 3))[0],
    }


async def _coordinated_entry(
    session: AsyncSession, net: _Network, orgs: dict[str, Organization], teams: dict[tuple[str, str], Team], now: datetime
) -> _Ce:
    """CA-600's Coordinated Entry: housing programs, vacancies, 104 assessed clients, referrals at every stage.

    Rows are what recordCeAssessment, postVacancy, createCeReferral, acknowledgeCeReferral,
    resolveCeReferral (after the provider's enrollment) and recordNotHousedReason leave.
    """
    rng = random.Random(CE_RANDOM_SEED)
    today = now.date()
    coc_id = orgs[CE_LEAD_ORG].coc_id
    assert coc_id is not None
    ce_user = net.users["ce"]
    ce_org = orgs[CE_LEAD_ORG].id
    ce_team = teams[(CE_LEAD_ORG, "Coordinated Entry")].id

    def at(days_ago: float) -> datetime:
        return now - timedelta(days=days_ago)

    def day(days_ago: int) -> date:
        return today - timedelta(days=days_ago)

    # Housing programs: HUD project types and the CoC on the existing ones, then the new ones.
    for name, project_type in HUD_PROJECT_TYPES.items():
        net.programs[name].hud_project_type = project_type
        net.programs[name].coc_id = coc_id
    new_programs = await _programs_of(session, orgs, [program_spec for program_spec, _ in CE_PROGRAMS], now)
    for program_spec, project_type in CE_PROGRAMS:
        new_programs[program_spec.name].hud_project_type = project_type
        new_programs[program_spec.name].coc_id = coc_id
    net.programs.update(new_programs)
    await session.flush()
    events: list[dict[str, Any]] = []

    def staff_of(program: Program) -> User:
        return net.program_staff[program.organization_id]

    # Vacancies: the open ones, then one for each housed referral, posted before the referral.
    vacancies: list[Vacancy] = []
    for name, days_open, size in OPEN_VACANCIES:
        program = net.programs[name]
        # A unit of three bedrooms or more is kept for a family; smaller openings suit any household.
        vacancies.append(Vacancy(program_id=program.id, description=_unit(size, name), size=size, opened_on=day(days_open),
                                 eligibility_notes="", household_type="FAMILY" if size >= 3 else None,
                                 created_by_user_id=staff_of(program).id, created_at=at(days_open)))
    own_vacancy: dict[int, Vacancy] = {}
    for index, spec in enumerate(CE_REFERRALS):
        if spec.vacancy is None:
            program = net.programs[spec.program]
            days_open = spec.days_ago + FILLED_VACANCY_LEAD_DAYS
            own_vacancy[index] = Vacancy(program_id=program.id, description=_unit(1, spec.program), size=1, opened_on=day(days_open),
                                         created_by_user_id=staff_of(program).id, created_at=at(days_open))
    session.add_all([*vacancies, *own_vacancy.values()])
    await session.flush()
    for v in [*vacancies, *own_vacancy.values()]:
        program = next(p for p in net.programs.values() if p.id == v.program_id)
        posted = {"action": "POSTED", "programId": v.program_id, "cocId": coc_id, "openedOn": v.opened_on.isoformat()}
        events.append(_ce_event(SubjectType.VACANCY, v.id, EventKind.CREATED, v.created_at, staff_of(program), program.organization_id, posted))

    # Assessed clients, each placed on the priority list by their assessment.
    households = [rng.choices(list(HOUSEHOLD_WEIGHTS), weights=list(HOUSEHOLD_WEIGHTS.values()))[0] for _ in range(ASSESSED_CLIENTS)]
    assessed_days = [rng.randint(1, HISTORY_DAYS) for _ in range(ASSESSED_CLIENTS)]
    clients = []
    for index, household in enumerate(households):
        created = at(assessed_days[index] + rng.uniform(0.01, 0.2))
        clients.append(Seeker(contact_preference=rng.choice((P.PHONE, P.TEXT, P.NONE)), phone=_ce_phone(index),
                              created_by_user_id=ce_user.id, created_at=created, updated_at=created,
                              **_hmis_client(rng, index, household, today)))
    session.add_all(clients)
    await session.flush()
    assessments = []
    for index, (client, household) in enumerate(zip(clients, households)):
        score = float(rng.randint(2, 17))
        days_homeless = rng.choice((rng.randint(14, 364), rng.randint(365, 2400)))
        size = 1 if household != "FAMILY" else rng.randint(2, 6)
        eligibility = "; ".join(
            part for part in (
                "veteran" if client.veteran_status == 1 else "",
                "chronic" if days_homeless >= 365 else "",
                f"family of {size}" if household == "FAMILY" else "",
                "youth" if household == "YOUTH" else "",
            ) if part
        )
        assessments.append((CeAssessment(
            seeker_id=client.id, coc_id=coc_id, assessment_date=day(assessed_days[index]), location=CE_LOCATION,
            assessment_type=rng.choices((1, 2, 3), weights=(20, 10, 70))[0], assessment_level=2, prioritization_status=1,
            questions=[
                {"question": "Where did you sleep last night?", "answer": rng.choice(("Outdoors", "Vehicle", "Shelter", "With friends")), "group": "History"},
                {"question": "Household size", "answer": str(size), "group": "Household"},
            ],
            results=[{"type": "Acuity score", "result": f"{score:g}"}],
            score=score, days_homeless=days_homeless, household_type=household,
            created_by_user_id=ce_user.id, created_at=client.created_at,
        ), eligibility))
    session.add_all([a for a, _ in assessments])
    await session.flush()
    entries = [
        PriorityListEntry(coc_id=coc_id, seeker_id=a.seeker_id, assessment_id=a.id, placed_on=a.assessment_date, score=a.score,
                          days_homeless=a.days_homeless, household_type=a.household_type, eligibility=eligibility, created_at=a.created_at)
        for a, eligibility in assessments
    ]
    session.add_all(entries)
    await session.flush()
    for e, (a, _) in zip(entries, assessments):
        change: dict[str, Any] = {"action": "PLACED", "cocId": coc_id, "assessmentId": a.id, "score": e.score, "daysHomeless": e.days_homeless}
        events.append(_ce_event(SubjectType.PRIORITY_LIST, e.id, EventKind.CREATED, a.created_at, ce_user, ce_org, change))

    # CE referrals: to the highest on the list assessed before the referral, each a live Referral too.
    taken: set[int] = set()
    ce_events: list[CeEvent] = []
    referrals: list[Referral] = []
    histories: list[list[dict[str, Any]]] = []
    housed: list[tuple[int, CeEvent, PriorityListEntry]] = []
    for index, spec in enumerate(CE_REFERRALS):
        program = net.programs[spec.program]
        vacancy = own_vacancy[index] if spec.vacancy is None else vacancies[spec.vacancy]
        made = at(spec.days_ago + rng.uniform(0.05, 0.4)) if spec.days_ago else at(rng.uniform(0.02, 0.1))
        entry = next(
            e for e in sorted(entries, key=lambda e: (-(e.score or 0), -(e.days_homeless or 0), e.placed_on, e.id))
            if e.id not in taken and e.created_at < made
        )
        taken.add(entry.id)
        client = next(c for c in clients if c.id == entry.seeker_id)
        staff = staff_of(program)
        referral = Referral(
            kind=ReferralKind.LIVE, status=S.NOT_UPDATED, version=1, seeker_id=client.id, program_id=program.id,
            program_organization_id=program.organization_id, navigator_id=ce_user.id, navigator_organization_id=ce_org,
            team_id=ce_team, site_id=None, contact_preference=client.contact_preference, consent=True, consent_at=made,
            screener_answers=[], created_at=made, updated_at=made,
        )
        history: list[dict[str, Any]] = [{"from_status": None, "to_status": S.NOT_UPDATED, "note": None, "changed_by_user_id": ce_user.id,
                    "source": ChangeSource.DASHBOARD, "at": made}]
        event = CeEvent(
            seeker_id=client.id, coc_id=coc_id, event_date=made.date(), event_type=EVENT_TYPE_FOR_PROJECT[program.hud_project_type or 0],
            location=CE_LOCATION, program_id=program.id, vacancy_id=None, version=1,
            provider_contact_email=program.contact_emails[0] if program.contact_emails else None,
            created_by_user_id=ce_user.id, created_at=made, updated_at=made,
        )
        event.vacancy_id = vacancy.id
        ce_events.append(event)
        referrals.append(referral)
        histories.append(history)
        client.updated_at = made
        if spec.result == 1:
            housed.append((index, event, entry))
    session.add_all(referrals)
    await session.flush()
    for event, referral in zip(ce_events, referrals):
        event.referral_id = referral.id
    session.add_all(ce_events)
    await session.flush()

    # What the providers did next, in the order the API would have recorded it.
    housed_entries = {index: entry for index, _, entry in housed}
    for index, (spec, event, referral, history) in enumerate(zip(CE_REFERRALS, ce_events, referrals, histories)):
        program = net.programs[spec.program]
        staff = staff_of(program)
        org_id = program.organization_id
        made = event.created_at
        change = {"action": "REFERRED", "cocId": coc_id, "eventType": event.event_type, "referralId": referral.id,
                                  "vacancyId": event.vacancy_id, "version": 1}
        events.append(_ce_event(SubjectType.CE_EVENT, event.id, EventKind.CREATED, made, ce_user, ce_org, change))
        opened: dict[str, Any] = {"to": S.NOT_UPDATED.name, "referralKind": ReferralKind.LIVE.name, "comment": None, "version": 1}
        events.append({**_event(referral, EventKind.CREATED, made, ce_user.id, ChangeSource.DASHBOARD, opened), "actor_organization_id": ce_org})
        if spec.acknowledged_after is not None:
            acknowledged = min(made + timedelta(days=spec.acknowledged_after, hours=rng.uniform(1, 6)), now)
            event.acknowledged_on = acknowledged.date()
            event.provider_contact_name = staff.name
            event.provider_contact_email = staff.email
            event.version += 1
            event.updated_at = acknowledged
            change = {"action": "ACKNOWLEDGED", "cocId": coc_id, "acknowledgedOn": event.acknowledged_on.isoformat(), "version": event.version}
            events.append(_ce_event(SubjectType.CE_EVENT, event.id, EventKind.STATUS_CHANGED, acknowledged, staff, org_id, change))
        if spec.result is not None and spec.resolved_after is not None:
            resolved = min(made + timedelta(days=spec.resolved_after, hours=rng.uniform(6, 9)), now)
            event.result = spec.result
            event.result_date = resolved.date()
            event.version += 1
            if spec.result == 1:
                entry = housed_entries[index]
                enrollment = await _housed_enrollment(session, event, program, staff, resolved, today)
                event.resulting_enrollment_id = enrollment.id
                event.enrollment_id = enrollment.id
                vacancy = own_vacancy[index]
                vacancy.filled_on = event.result_date
                vacancy.filled_by_enrollment_id = enrollment.id
                change = {"action": "FILLED", "cocId": coc_id, "enrollmentId": enrollment.id, "filledOn": event.result_date.isoformat()}
                events.append(_ce_event(SubjectType.VACANCY, vacancy.id, EventKind.STATUS_CHANGED, resolved, staff, org_id, change))
                entry.left_on = event.result_date
                entry.left_reason = "HOUSED"
                change = {"action": "HOUSED", "cocId": coc_id, "ceEventId": event.id}
                events.append(_ce_event(SubjectType.PRIORITY_LIST, entry.id, EventKind.STATUS_CHANGED, resolved, staff, org_id, change))
            change = {"action": "RESOLVED", "cocId": coc_id, "result": spec.result, "resultDate": event.result_date.isoformat(), "version": event.version}
            events.append(_ce_event(SubjectType.CE_EVENT, event.id, EventKind.STATUS_CHANGED, resolved, staff, org_id, change))
            status = STATUS_FOR_RESULT[spec.result]
            note = hud.label(hud.REFERRAL_RESULT, spec.result)
            history.append({"from_status": S.NOT_UPDATED, "to_status": status, "note": note, "changed_by_user_id": staff.id,
                            "source": ChangeSource.DASHBOARD, "at": resolved})
            referral.status = status
            referral.version = 2
            referral.updated_at = resolved
            changed = {"from": S.NOT_UPDATED.name, "to": status.name, "note": note, "version": 2}
            events.append({**_event(referral, EventKind.STATUS_CHANGED, resolved, staff.id, ChangeSource.DASHBOARD, changed),
                           "actor_organization_id": org_id})
            event.updated_at = resolved
            if spec.not_housed_reason is not None:
                noted = min(resolved + timedelta(hours=2), now)
                event.not_housed_reason = spec.not_housed_reason
                event.version += 1
                event.updated_at = noted
                change = {"action": "NOT_HOUSED_REASON", "cocId": coc_id, "reason": spec.not_housed_reason, "version": event.version}
                events.append(_ce_event(SubjectType.CE_EVENT, event.id, EventKind.STATUS_CHANGED, noted, ce_user, ce_org, change))
        client = next(c for c in clients if c.id == event.seeker_id)
        client.updated_at = max(client.updated_at, referral.updated_at)
    await session.flush()
    await session.execute(
        insert(StatusChange),
        [{**row, "referral_id": r.id} for r, rows in zip(referrals, histories) for row in rows],
        execution_options={"render_nulls": True},
    )
    return _Ce(seekers=len(clients), referrals=len(referrals), events=events)


def _ce_phone(index: int) -> str:
    """Fictional like _phone's, on area codes the navigators' seekers (and the demo seeker) do not use for them."""
    n = 60 + index
    digits = n % 100
    return f"+1{AREA_CODES[(digits + 2 + n // 100) % len(AREA_CODES)]}55501{digits:02d}"


def _unit(size: int, program: str) -> str:
    return "One bed" if program in {"Emergency Shelter Bed", "Recuperative Care Shelter", "Youth Transitional Housing"} else (
        "Studio apartment" if size == 1 else f"{size}-bedroom apartment"
    )


async def _housed_enrollment(
    session: AsyncSession, event: CeEvent, program: Program, staff: User, resolved: datetime, today: date
) -> Enrollment:
    """The provider's enrollment of the client, entered on the result date, moved in a few days later."""
    household = Household(created_at=resolved)
    session.add(household)
    await session.flush()
    entry = resolved.date()
    enrollment = Enrollment(
        seeker_id=event.seeker_id, program_id=program.id, household_id=household.id, entry_date=entry, relationship_to_hoh=1,
        prior_living_situation=116, enrollment_coc=COC[0], disabling_condition=1 if program.hud_project_type == 3 else 0,
        move_in_date=min(entry + timedelta(days=3), today) if program.hud_project_type in (3, 9, 13) else None,
        created_by_user_id=staff.id, created_at=resolved, updated_at=resolved,
    )
    session.add(enrollment)
    await session.flush()
    return enrollment


# ---------------------------------------------------------------------------------------------
# Shared cases and releases of information
# ---------------------------------------------------------------------------------------------

CASES_RANDOM_SEED = 77
AGREEMENT_NAME = "Families First: Housing and Child Welfare MOA"
AGREEMENT_PURPOSE = (
    "Harbor Supportive Housing and the County Department of Children and Family Services share what they need to "
    "keep families known to child welfare together in stable housing: case notes, contact details, child welfare "
    "status and referrals, only for families whose head has signed a release to the agreement's parties."
)
AGREEMENT_SCOPES = (Scope.CASE_NOTES, Scope.CONTACT, Scope.CHILD_WELFARE, Scope.REFERRALS)


class ConsentSpec(NamedTuple):
    state: str  # ACTIVE, PENDING, EXPIRED or REVOKED, as of the day the seed runs
    scopes: tuple[Scope, ...]
    starts: int  # days from today (negative: in the past)
    ends: int | None = None  # days from today; three years after the start when None
    revoked: int | None = None  # days ago
    captured_how: CaptureMethod = CaptureMethod.SIGNED_PAPER
    witness: str | None = None


class CaseSpec(NamedTuple):
    head: tuple[str, str, int]  # first name, last name, age
    children: tuple[tuple[str, int], ...]
    stage: CaseStage
    opened: int  # days ago
    moved_in: int | None = None
    stabilizing: int | None = None
    closed: int | None = None
    closure: ClosureReason | None = None
    assistance_ends: int | None = None  # days from today
    consents: tuple[ConsentSpec, ...] = ()
    goals: tuple[tuple[str, GoalStatus], ...] = ()
    intensities: tuple[Intensity, ...] = ()  # service contacts, oldest first: the need rises and falls
    notes: tuple[tuple[str, str, bool], ...] = ()  # (author account, text, child welfare)
    conference: bool = False
    payments: tuple[tuple[AssistanceKind, str, str], ...] = ()  # (kind, amount, payee)


RENT, DEPOSIT = AssistanceKind.RENT, AssistanceKind.SECURITY_DEPOSIT
CASES: tuple[CaseSpec, ...] = (
    # The main demo case: consent to the agreement for notes, contact and referrals (not child welfare).
    CaseSpec(
        ("Renata", "Solis", 34), (("Mateo", 9), ("Luna", 4)), CaseStage.STABILIZING, opened=120, moved_in=75, stabilizing=20,
        assistance_ends=40,
        consents=(ConsentSpec("ACTIVE", (Scope.CASE_NOTES, Scope.CONTACT, Scope.REFERRALS), starts=-118),),
        goals=(("Keep my kids with me in a place that's ours", GoalStatus.IN_PROGRESS),
               ("Get Mateo back to school every day", GoalStatus.MET),
               ("Find work near the new apartment so I can pay rent myself", GoalStatus.IN_PROGRESS)),
        intensities=(Intensity.INTENSIVE, Intensity.INTENSIVE, Intensity.MODERATE, Intensity.INTENSIVE, Intensity.MODERATE, Intensity.LIGHT),
        notes=(("housing-cm", "Landlord at Pacific Ave agreed to waive the application fee.", False),
               ("caseworker", "Family maintenance plan reviewed; safety plan holds, no new concerns.", True),
               ("caseworker", "Renata asked for help with Luna's preschool enrollment; sent the child care list.", False),
               ("housing-cm", "Recertified income; rent share goes up next month as planned.", False)),
        conference=True,
        payments=((DEPOSIT, "1850.00", "Pacific Ave Apartments LLC"), (RENT, "1450.00", "Pacific Ave Apartments LLC"),
                  (RENT, "1100.00", "Pacific Ave Apartments LLC"), (RENT, "750.00", "Pacific Ave Apartments LLC")),
    ),
    # Consent to the agreement for everything it covers: revoking it is what the browser test does.
    CaseSpec(
        ("Brianna", "Holt", 29), (("Jaylen", 11), ("Amara", 6), ("Eli", 2)), CaseStage.MOVED_IN, opened=70, moved_in=12,
        assistance_ends=170,
        consents=(ConsentSpec("ACTIVE", AGREEMENT_SCOPES, starts=-68, captured_how=CaptureMethod.VERBAL_WITNESSED,
                              witness="Dana Whitfield"),),
        goals=(("A two-bedroom close to the kids' school", GoalStatus.MET),
               ("Have the kids sleep in their own beds", GoalStatus.IN_PROGRESS)),
        intensities=(Intensity.MODERATE, Intensity.INTENSIVE, Intensity.INTENSIVE, Intensity.MODERATE),
        notes=(("housing-cm", "Moved in on Saturday; beds delivered Monday.", False),
               ("caseworker", "Reunification visit went well; next court review in six weeks.", True),
               ("caseworker", "Brianna is keeping every appointment; she asked about a GED program.", False)),
        conference=True,
        payments=((DEPOSIT, "2100.00", "Harbor View Homes"), (AssistanceKind.FURNITURE, "640.00", "Beds for Kids Warehouse")),
    ),
    # The release starts next week: nothing crosses until then.
    CaseSpec(
        ("Leticia", "Moreno", 41), (("Diego", 15), ("Sofia", 12)), CaseStage.OBTAIN_HOUSING, opened=9,
        consents=(ConsentSpec("PENDING", AGREEMENT_SCOPES, starts=5),),
        goals=(("Stay in the same school district while we look", GoalStatus.NOT_STARTED),),
        intensities=(Intensity.INTENSIVE, Intensity.INTENSIVE),
        notes=(("housing-cm", "Searching in San Pedro and Wilmington; two viewings this week.", False),
               ("caseworker", "Voluntary services case open; no court involvement.", True)),
    ),
    # Closed, stably housed; the release ran out after the case closed.
    CaseSpec(
        ("Carmen", "Whitaker", 37), (("Isaiah", 8),), CaseStage.CLOSED, opened=420, moved_in=360, stabilizing=250, closed=30,
        closure=ClosureReason.STABLY_HOUSED, assistance_ends=-90,
        consents=(ConsentSpec("EXPIRED", AGREEMENT_SCOPES, starts=-415, ends=-25),),
        goals=(("Pay my own rent by next summer", GoalStatus.MET),),
        intensities=(Intensity.INTENSIVE, Intensity.MODERATE, Intensity.LIGHT, Intensity.LIGHT),
        notes=(("housing-cm", "Carmen is paying full rent for three months running; closing as stably housed.", False),
               ("caseworker", "Child welfare case closed; family maintenance completed.", True)),
        conference=True,
        payments=((DEPOSIT, "1600.00", "Gardena Court"), (RENT, "1200.00", "Gardena Court")),
    ),
    # The family revoked its release last week.
    CaseSpec(
        ("Shawna", "Begay", 32), (("Kai", 7), ("Nova", 3)), CaseStage.OBTAIN_HOUSING, opened=30,
        consents=(ConsentSpec("REVOKED", AGREEMENT_SCOPES, starts=-28, revoked=6),),
        goals=(("Somewhere quiet, away from my ex", GoalStatus.IN_PROGRESS),),
        intensities=(Intensity.MODERATE, Intensity.INTENSIVE, Intensity.MODERATE),
        notes=(("housing-cm", "Shawna wants to talk to her advocate before sharing anything more.", False),
               ("caseworker", "Safety plan updated with the DV advocate.", True)),
    ),
    # No release at all: child welfare sees only that the case exists, who leads it and how to reach them.
    CaseSpec(
        ("Yolanda", "Pierce", 26), (("Aiden", 5),), CaseStage.OBTAIN_HOUSING, opened=5,
        goals=(("A place with a yard for Aiden", GoalStatus.NOT_STARTED),),
        intensities=(Intensity.INTENSIVE,),
        notes=(("housing-cm", "Intake done; referred to the family shelter while we look.", False),
               ("caseworker", "Referral from the hotline; assessment visit scheduled.", True)),
    ),
)

CONTACT_TYPES = (ContactType.HOME_VISIT, ContactType.PHONE, ContactType.OFFICE_VISIT, ContactType.ACCOMPANIMENT, ContactType.VIDEO)
STRENGTHS = (
    "Keeps every appointment; strong bond with the kids",
    "Resourceful; knows the neighborhood",
    "Support from her sister nearby",
    "Budgeting well; asks for help early",
)
CONTACT_SUMMARIES = {
    Intensity.INTENSIVE: "Crisis visit: went through the housing search and the kids' routines together.",
    Intensity.MODERATE: "Check-in on the lease, the budget and school.",
    Intensity.LIGHT: "Short check-in: things are steady.",
}


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class _Cases:
    seekers: int
    events: list[dict[str, Any]]


async def _cases(session: AsyncSession, net: _Network, orgs: dict[str, Organization], now: datetime) -> _Cases:
    """Six shared families led by the housing provider, worked alongside child welfare, under their releases.

    Rows are what openCase, addCaseWorker, setCaseStage, the record mutations, grantConsent,
    revokeConsent and createDataSharingAgreement leave.
    """
    rng = random.Random(CASES_RANDOM_SEED)
    today = now.date()
    housing, child_welfare = orgs[HOUSING_ORG], orgs[CHILD_WELFARE_ORG]
    cm, caseworker, admin = net.users["housing-cm"], net.users["caseworker"], net.users["housing-admin"]
    author_org = {"housing-cm": housing.id, "caseworker": child_welfare.id}
    events: list[dict[str, Any]] = []

    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    def at(days_ago: float) -> datetime:
        return now - timedelta(days=days_ago)

    agreement = DataSharingAgreement(name=AGREEMENT_NAME, purpose=AGREEMENT_PURPOSE, starts_on=day(-450), ends_on=day(3 * 365),
                                     created_by_user_id=admin.id, created_at=at(450))
    session.add(agreement)
    await session.flush()
    session.add_all(AgreementParty(agreement_id=agreement.id, organization_id=o.id) for o in (housing, child_welfare))
    session.add_all(AgreementScope(agreement_id=agreement.id, scope=s) for s in AGREEMENT_SCOPES)

    people = 0
    for index, spec in enumerate(CASES):
        first, last, age = spec.head
        opened = at(spec.opened)
        head = Seeker(first_name=first, last_name=last, email=f"{first}.{last}@example.com".lower(),
                      phone=f"+1{AREA_CODES[(index + 1) % len(AREA_CODES)]}55501{10 + index:02d}", contact_preference=P.TEXT,
                      dob=date(today.year - age, 1 + (index * 5) % 12, 3 + index * 4), created_by_user_id=cm.id,
                      created_at=opened - timedelta(hours=2), updated_at=opened - timedelta(hours=2))
        kids = [Seeker(first_name=name, last_name=last, contact_preference=P.NONE,
                       dob=date(today.year - kid_age, 1 + (index + n * 7) % 12, 1 + (index * 3 + n * 5) % 27),
                       created_by_user_id=cm.id, created_at=opened - timedelta(hours=1), updated_at=opened - timedelta(hours=1))
                for n, (name, kid_age) in enumerate(spec.children)]
        session.add_all([head, *kids])
        people += 1 + len(kids)
        case = Case(lead_organization_id=housing.id, stage=spec.stage, opened_on=day(-spec.opened),
                    moved_in_on=day(-spec.moved_in) if spec.moved_in is not None else None,
                    stabilizing_on=day(-spec.stabilizing) if spec.stabilizing is not None else None,
                    closed_on=day(-spec.closed) if spec.closed is not None else None, closure_reason=spec.closure,
                    assistance_ends_on=day(spec.assistance_ends) if spec.assistance_ends is not None else None,
                    created_by_user_id=cm.id, created_at=opened, updated_at=opened)
        session.add(case)
        await session.flush()
        session.add_all(CaseSeeker(case_id=case.id, seeker_id=s.id, is_head=s is head) for s in [head, *kids])
        session.add_all([
            CaseMember(case_id=case.id, user_id=cm.id, organization_id=housing.id, role=CaseRole.LEAD_CASE_MANAGER,
                       added_on=case.opened_on),
            CaseMember(case_id=case.id, user_id=caseworker.id, organization_id=child_welfare.id,
                       role=CaseRole.CHILD_WELFARE_CASEWORKER, added_on=min(case.opened_on + timedelta(days=1), today)),
        ])
        changes: list[tuple[datetime, User, int, EventKind, dict[str, Any]]] = [
            (opened, cm, housing.id, EventKind.CREATED, {"opened": True})
        ]
        for stage, days_ago in ((CaseStage.MOVED_IN, spec.moved_in), (CaseStage.STABILIZING, spec.stabilizing),
                                (CaseStage.CLOSED, spec.closed)):
            if days_ago is not None:
                changes.append((at(days_ago), cm, housing.id, EventKind.STATUS_CHANGED, {"stage": stage.name}))

        # The file: spread over the case's life, oldest first.
        last_day = spec.closed if spec.closed is not None else 0
        span = spec.opened - last_day

        def on_day(n: int, count: int) -> int:
            return spec.opened - max(0, min(span, round(span * (n + 1) / (count + 1))))

        records: list[CaseRecord] = []
        for n, (words, status) in enumerate(spec.goals):
            days_ago = spec.opened - min(span, n * 2)
            records.append(CaseRecord(kind=RecordKind.GOAL, scope=Scope.CASE_NOTES, organization_id=housing.id,
                                      author_user_id=cm.id, on=day(-days_ago), body=words,
                                      details={"targetDate": day(-days_ago + 90).isoformat(), "status": status.name}))
        for n, intensity in enumerate(spec.intensities):
            author = caseworker if n % 3 == 2 else cm
            contact_type = CONTACT_TYPES[n % len(CONTACT_TYPES)]
            records.append(CaseRecord(
                kind=RecordKind.CONTACT, scope=Scope.CASE_NOTES, organization_id=author_org["caseworker" if author is caseworker else "housing-cm"],
                author_user_id=author.id, on=day(-on_day(n, len(spec.intensities))), body=CONTACT_SUMMARIES[intensity],
                details={"type": contact_type.name, "minutes": rng.choice((20, 30, 45, 60, 90)),
                         "location": "Family's home" if contact_type is ContactType.HOME_VISIT else None,
                         "intensity": intensity.name, "strengths": STRENGTHS[(index + n) % len(STRENGTHS)]},
            ))
        for n, (account, text, child_welfare_note) in enumerate(spec.notes):
            author = net.users[account]
            records.append(CaseRecord(kind=RecordKind.NOTE, scope=Scope.CHILD_WELFARE if child_welfare_note else Scope.CASE_NOTES,
                                      organization_id=author_org[account], author_user_id=author.id,
                                      on=day(-on_day(n, len(spec.notes))), body=text, details={}))
        if spec.conference:
            conference_day = on_day(1, 2)
            records.append(CaseRecord(
                kind=RecordKind.CONFERENCE, scope=Scope.CASE_NOTES, organization_id=housing.id, author_user_id=cm.id,
                on=day(-conference_day), body="Keep weekly home visits for a month, then every other week if the budget holds.",
                details={"attendees": [f"{first} {last}", cm.name, caseworker.name],
                         "nextSteps": [{"who": cm.name, "what": "Ask the landlord about a payment plan", "by": day(-conference_day + 7).isoformat()},
                                       {"who": caseworker.name, "what": "Update the family maintenance plan", "by": None},
                                       {"who": first, "what": "Bring the school enrollment papers", "by": None}]},
            ))
        for n, (kind, amount, payee) in enumerate(spec.payments):
            paid = on_day(n, len(spec.payments))
            period = (day(-paid), day(-paid + 29)) if kind is RENT else (None, None)
            records.append(CaseRecord(
                kind=RecordKind.ASSISTANCE, scope=Scope.FINANCIAL_ASSISTANCE, organization_id=housing.id, author_user_id=cm.id,
                on=day(-paid), body="", details={"kind": kind.name, "amount": amount, "payee": payee,
                                                 "periodStart": period[0].isoformat() if period[0] else None,
                                                 "periodEnd": period[1].isoformat() if period[1] else None},
            ))
        records.sort(key=lambda r: r.on)
        for r in records:
            r.case_id = case.id
            r.created_at = r.updated_at = max(opened, datetime.combine(r.on, opened.time()).replace(tzinfo=opened.tzinfo))
        session.add_all(records)
        await session.flush()
        for r in records:
            author = caseworker if r.author_user_id == caseworker.id else cm
            changes.append((r.created_at, author, r.organization_id, EventKind.COMMENT_ADDED, {"recordId": r.id, "kind": r.kind.name}))
        case.version = len(changes)
        case.updated_at = max(at for at, *_ in changes)
        for when_, actor, org_id, event_kind, change in changes:
            events.append(_ce_event(SubjectType.CASE, case.id, event_kind, when_, actor, org_id, {"caseId": case.id, **change}))

        for consent_spec in spec.consents:
            starts = day(consent_spec.starts)
            consent = Consent(
                seeker_id=head.id, to_agreement_id=agreement.id, starts_on=starts,
                ends_on=day(consent_spec.ends) if consent_spec.ends is not None else _years_after(starts, 3),
                granted_by=GrantedBy.SEEKER, captured_how=consent_spec.captured_how, captured_by_user_id=cm.id,
                captured_by_organization_id=housing.id, witness_name=consent_spec.witness,
                revoked_at=at(consent_spec.revoked) if consent_spec.revoked is not None else None,
                revoked_by_user_id=cm.id if consent_spec.revoked is not None else None,
                created_at=min(opened, at(1)) if consent_spec.starts > 0 else at(-consent_spec.starts),
            )
            session.add(consent)
            await session.flush()
            session.add_all(ConsentScope(consent_id=consent.id, scope=s) for s in consent_spec.scopes)
            events.append(_ce_event(SubjectType.CONSENT, consent.id, EventKind.CREATED, consent.created_at, cm, housing.id,
                                    {"seekerId": head.id, "granted": True}))
            if consent.revoked_at is not None:
                events.append(_ce_event(SubjectType.CONSENT, consent.id, EventKind.STATUS_CHANGED, consent.revoked_at, cm,
                                        housing.id, {"seekerId": head.id, "revoked": True}))
    await session.flush()
    return _Cases(seekers=people, events=events)
