// GraphQL documents shared by the dashboards (see schema.graphql at the repository root).
import { PROGRAM_DETAILS } from './directory.js';

export const REFERRAL_FIELDS = `
fragment ReferralFields on Referral {
  id kind status statusGroup version createdAt updatedAt
  contactPreference consent seekerWillReachOut
  seeker { id firstName lastName email phone contactPreference }
  program { id name connectMode externalUrl organization { id name } ${PROGRAM_DETAILS} }
  navigator { id name }
  screenerAnswers { key label value }
  comments { id body createdAt author { id name } }
  history { id fromStatus toStatus note at changedBy { id name } source }
  viewerCan { statuses comment undoStatus undoUntil }
}`;

/** What one ReferralEvent changed, as it happened (a replay tells it as it was then). */
export const REFERRAL_CHANGE_FIELDS = `
fragment ReferralChangeFields on ReferralChange {
  fromStatus toStatus note comment version source actor { id name }
}`;

// The CE wall sees wall-only shapes: initials, program, status and times, never names or comments.
export const WALL_REFERRAL_FIELDS = `
fragment WallReferralFields on WallReferral {
  id status seekerInitials createdAt updatedAt
  program { name organizationName }
}`;

export const WALL_CHANGE_FIELDS = `
fragment WallChangeFields on WallChange {
  seq kind at fromStatus toStatus
  referral { ...WallReferralFields }
}
${WALL_REFERRAL_FIELDS}`;

export const VIEWER = `
query Viewer {
  viewer {
    id email name role trackingOnly
    organization { id name cocCode }
    memberships { role organization { id name cocCode } team { id } }
    seeker { id firstName lastName }
  }
}`;

export const SWITCH_ORGANIZATION = `
mutation SwitchOrganization($organizationId: ID!) {
  switchOrganization(organizationId: $organizationId) {
    id email name role trackingOnly
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
