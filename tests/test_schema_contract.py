"""The printed SDL is a contract with dashboards and partner apps: it changes only on purpose."""

from __future__ import annotations

from pathlib import Path

from db import migrate
from schema import schema

SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SDL.read_text() == str(schema) + "\n", "schema.graphql is stale: run `make schema` and review the diff"


def test_contract_names_from_the_design_exist() -> None:
    printed = str(schema)
    for name in (
        "referralsForMe",
        "peopleImHelping",
        "inboundReferrals(",
        "seekerProfiles(",
        "createReferral(input: CreateReferralInput!)",
        "updateReferralStatus(input: UpdateReferralStatusInput!)",
        "addReferralComment(input: AddReferralCommentInput!)",
        "switchOrganization(organizationId: ID!)",
        "referralChanged(afterSeq: Int",
        "node(id: ID!): Node",
    ):
        assert name in printed, name


def test_models_and_migrations_agree(database_url: str) -> None:
    migrate.check(database_url)
