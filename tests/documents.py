"""GraphQL documents the tests send, written as a dashboard would write them."""

REFERRAL_FIELDS = """
  id kind status statusGroup version createdAt updatedAt contactPreference consent seekerWillReachOut
  seeker { id firstName lastName email phone contactPreference }
  program { id name connectMode organization { id name } }
  navigator { id name }
  screenerAnswers { key label value }
  comments { body author { name } }
  history { fromStatus toStatus note changedBy { name } source }
  viewerCan { statuses comment }
"""

CREATE_REFERRAL = f"""
mutation Create($input: CreateReferralInput!) {{
  createReferral(input: $input) {{ {REFERRAL_FIELDS} }}
}}
"""

UPDATE_STATUS = f"""
mutation Update($input: UpdateReferralStatusInput!) {{
  updateReferralStatus(input: $input) {{ {REFERRAL_FIELDS} }}
}}
"""

ADD_COMMENT = """
mutation Comment($input: AddReferralCommentInput!) {
  addReferralComment(input: $input) { id comments { body author { name } } }
}
"""

REFERRAL = f"query One($id: ID!) {{ referral(id: $id) {{ {REFERRAL_FIELDS} }} }}"

INBOUND = f"""
query Inbound($programId: ID, $status: ReferralStatus, $first: Int, $after: String) {{
  inboundReferrals(programId: $programId, status: $status, first: $first, after: $after) {{
    notUpdatedCount totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {REFERRAL_FIELDS} }} }}
  }}
}}
"""

PEOPLE = """
query People { peopleImHelping { edges { node { id firstName referrals { edges { node { id status kind } } } } } } }
"""

FOR_ME = "query Mine { referralsForMe { edges { node { id kind status program { name } } } } }"

CHANGES = """
subscription Changes($afterSeq: Int, $programId: ID) {
  referralChanged(afterSeq: $afterSeq, programId: $programId) {
    seq kind at
    referral { id status version kind seeker { firstName email phone } program { name } }
  }
}
"""


def new_seeker_referral(program_id: str, **overrides: object) -> dict[str, object]:
    """The input a navigator sends when referring someone new."""
    value: dict[str, object] = {
        "programId": program_id,
        "seeker": {"firstName": "Maria", "lastName": "Lopez", "email": "maria@example.com", "phone": "(202) 555-0178"},
        "contactPreference": "EMAIL",
        "consent": True,
        "comment": "Needs groceries for a family of four.",
        "screenerAnswers": [{"key": "household_size", "value": "4"}, {"key": "has_income", "value": "No"}],
    }
    value.update(overrides)
    return value

# As the dashboards write it: a fragment shared with their queries.
CHANGES_WITH_FRAGMENT = """
subscription ReferralChanged($afterSeq: Int, $programId: ID) {
  referralChanged(afterSeq: $afterSeq, programId: $programId) { seq kind referral { ...Card } }
}
fragment Card on Referral { id status seeker { firstName email } program { name } }
"""
