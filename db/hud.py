"""HUD's HMIS code lists (FY2024), as the project's own data: db/hmis/lists.csv and columns.csv.

Codes are stored as HUD writes them (integers), so exports and HUD's reporting tools read them as
they are; this module says which codes each list allows and what they mean.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "hmis"

# The lists the product uses, by HUD's list number.
ASSESSMENT_TYPE = "4.19.3"
ASSESSMENT_LEVEL = "4.19.4"
PRIORITIZATION_STATUS = "4.19.7"
EVENT_TYPE = "4.20.2"
REFERRAL_RESULT = "4.20.D"
PROJECT_TYPE = "2.02.6"
HOUSING_TYPE = "2.02.D"
DESTINATION = "3.12"
PRIOR_LIVING_SITUATION = "3.917"
RELATIONSHIP_TO_HOH = "3.15.1"
NAME_DATA_QUALITY = "3.01.5"
DOB_DATA_QUALITY = "3.03.2"
NO_YES_REASONS = "1.8"  # No, Yes, Client doesn't know, Client prefers not to answer, Data not collected
NO_YES_MISSING = "1.7"  # No, Yes, Data not collected
RACE_NONE = "1.6"

# 4.20.2 event types that are referrals to a housing opportunity and carry 4.20.D and 4.20.E.
HOUSING_REFERRAL_EVENTS = frozenset({10, 11, 12, 13, 14, 15, 17, 18})
SUCCESSFUL = 1
YES = 1  # in the no/yes lists (1.7, 1.8)


@dataclass(frozen=True)
class Column:
    file: str
    position: int
    name: str
    type: str
    max_length: int | None
    nullable: bool


@cache
def lists() -> dict[str, dict[int, str]]:
    """Every code list: list number -> {code: label}, in HUD's order."""
    out: dict[str, dict[int, str]] = {}
    with (DATA / "lists.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["list"], {})[int(row["code"])] = row["label"]
    return out


def codes(list_id: str) -> dict[int, str]:
    return lists()[list_id]


def label(list_id: str, code: int | None) -> str | None:
    return None if code is None else codes(list_id).get(code)


def is_code(list_id: str, code: int) -> bool:
    return code in codes(list_id)


@cache
def columns() -> dict[str, list[Column]]:
    """Every file's columns in specification order: "Client.csv" -> [Column, ...]."""
    out: dict[str, list[Column]] = {}
    with (DATA / "columns.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["file"], []).append(
                Column(
                    file=row["file"],
                    position=int(row["position"]),
                    name=row["column"],
                    type=row["type"],
                    max_length=int(row["max_length"]) if row["max_length"] else None,
                    nullable=row["nullable"] == "Y",
                )
            )
    return out
