// GraphQL documents shared by the dashboards (see schema.graphql at the repository root).
export const REFERRAL_FIELDS = `
fragment ReferralFields on Referral {
  id kind status statusGroup version createdAt updatedAt
  contactPreference consent seekerWillReachOut
  seeker { id firstName lastName email phone contactPreference }
  program { id name connectMode externalUrl organization { id name } }
  navigator { id name }
  screenerAnswers { key label value }
  comments { id body createdAt author { id name } }
  history { id fromStatus toStatus note at changedBy { id name } source }
}`;

export const VIEWER = `
query Viewer {
  viewer {
    id email name role
    organization { id name cocCode }
    memberships { role organization { id name cocCode } team { id } }
    seeker { id firstName lastName }
  }
}`;

export const SWITCH_ORGANIZATION = `
mutation SwitchOrganization($organizationId: ID!) {
  switchOrganization(organizationId: $organizationId) {
    id email name role
    organization { id name cocCode }
    memberships { role organization { id name cocCode } team { id } }
    seeker { id firstName lastName }
  }
}`;

export const UPDATE_STATUS = `
mutation UpdateReferralStatus($input: UpdateReferralStatusInput!) {
  updateReferralStatus(input: $input) { ...ReferralFields }
}
${REFERRAL_FIELDS}`;

export const ADD_COMMENT = `
mutation AddReferralComment($input: AddReferralCommentInput!) {
  addReferralComment(input: $input) { ...ReferralFields }
}
${REFERRAL_FIELDS}`;

export const REFERRAL = `
query Referral($id: ID!) {
  referral(id: $id) { ...ReferralFields }
}
${REFERRAL_FIELDS}`;
