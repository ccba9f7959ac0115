"""The program directory: search and lookup."""

from __future__ import annotations

import re

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from db.accounts import Organization
from db.programs import DETAILS_LOAD, Program, ProgramCategory, ProgramCategoryTag, ProgramServiceArea
from resolvers.errors import BadInput, NotFound
from resolvers.pagination import Page, keyset_page
from resolvers.runtime import Runtime
from resolvers.search import every_word_matches
from resolvers.text import excerpt

PROGRAM_LOAD = (
    joinedload(Program.organization),
    selectinload(Program.categories),
    selectinload(Program.service_areas),
    *DETAILS_LOAD,
)


@dataclass(frozen=True)
class ProgramPage:
    """A page of the directory and how many programs match in all."""

    page: Page[Program]
    total_count: int
POSTAL_CODE = re.compile(r"^\d{5}$")


async def search_programs(
    runtime: Runtime,
    *,
    search: str | None,
    category: ProgramCategory | None,
    postal_code: str | None,
    first: int,
    after: str | None,
) -> ProgramPage:
    """Active programs matching every given filter, by name."""
    stmt = select(Program).join(Program.organization).where(Program.is_active.is_(True)).options(*PROGRAM_LOAD)
    stmt = stmt.where(*every_word_matches(search, Program.name, Program.description, Organization.name))
    if category is not None:
        stmt = stmt.where(
            exists().where(ProgramCategoryTag.program_id == Program.id, ProgramCategoryTag.category == category)
        )
    if postal_code is not None:
        code = postal_code.strip()
        if not POSTAL_CODE.match(code):
            raise BadInput(f"“{excerpt(postal_code)}” is not a 5-digit ZIP code.", field="postalCode")
        served_somewhere = exists().where(ProgramServiceArea.program_id == Program.id)
        served_here = exists().where(ProgramServiceArea.program_id == Program.id, ProgramServiceArea.postal_code == code)
        stmt = stmt.where(or_(~served_somewhere, served_here))
    async with runtime.db.read() as session:
        total = await session.scalar(select(func.count()).select_from(stmt.with_only_columns(Program.id).subquery()))
        page = await keyset_page(session, stmt, order=[Program.name, Program.id], first=first, after=after, descending=False)
    return ProgramPage(page=page, total_count=int(total or 0))


async def get_program(runtime: Runtime, program_id: int) -> Program:
    async with runtime.db.read() as session:
        program = await session.scalar(select(Program).where(Program.id == program_id).options(*PROGRAM_LOAD))
    if program is None:
        raise NotFound("No program with that id.")
    return program
