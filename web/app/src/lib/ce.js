// GraphQL documents and words for the Coordinated Entry pages (see schema.graphql).
export const CE_EVENT_FIELDS = `
fragment CeEventFields on CeEvent {
  id version status initials eventDate daysWaiting referralId programId
  seeker { id firstName lastName }
  eventType { code label }
  result { code label }
  resultDate acknowledgedOn
  providerContactName providerContactPhone providerContactEmail
  resultingEnrollmentId notHousedReason
  vacancy { id programId description size openedOn daysVacant }
}`;

export const PRIORITY_LIST = `
query PriorityList($cocCode: String!, $householdType: HouseholdType, $eligibility: String, $veteran: Boolean, $first: Int!, $after: String) {
  priorityList(cocCode: $cocCode, householdType: $householdType, eligibility: $eligibility, veteran: $veteran, first: $first, after: $after) {
    totalCount lastSeq
    edges { node { id initials score daysHomeless daysOnList placedOn householdType eligibility seeker { id firstName lastName } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const VACANCIES = `
query Vacancies($cocCode: String!) {
  vacancies(cocCode: $cocCode) {
    id programId description size openedOn eligibilityNotes daysVacant filledOn
    program { name organizationName }
  }
}`;

export const CE_EVENTS = `
query CeEvents($cocCode: String!, $status: CeEventStatus, $first: Int!) {
  ceEvents(cocCode: $cocCode, status: $status, first: $first) {
    totalCount lastSeq
    edges { node { ...CeEventFields } }
  }
}
${CE_EVENT_FIELDS}`;

export const CREATE_CE_REFERRAL = `
mutation CreateCeReferral($input: CreateCeReferralInput!) {
  createCeReferral(input: $input) { ...CeEventFields }
}
${CE_EVENT_FIELDS}`;

export const ACKNOWLEDGE_CE_REFERRAL = `
mutation AcknowledgeCeReferral($input: AcknowledgeCeReferralInput!) {
  acknowledgeCeReferral(input: $input) { ...CeEventFields }
}
${CE_EVENT_FIELDS}`;

export const RESOLVE_CE_REFERRAL = `
mutation ResolveCeReferral($input: ResolveCeReferralInput!) {
  resolveCeReferral(input: $input) { ...CeEventFields }
}
${CE_EVENT_FIELDS}`;

export const RECORD_NOT_HOUSED = `
mutation RecordNotHousedReason($input: RecordNotHousedReasonInput!) {
  recordNotHousedReason(input: $input) { ...CeEventFields }
}
${CE_EVENT_FIELDS}`;

export const ENROLLMENTS = `
query Enrollments($programId: ID, $seekerId: ID) {
  enrollments(programId: $programId, seekerId: $seekerId, first: 20) {
    edges { node { id entryDate exitDate moveInDate relationshipToHoH } }
  }
}`;

export const CREATE_ENROLLMENT = `
mutation CreateEnrollment($input: CreateEnrollmentInput!) {
  createEnrollment(input: $input) { id entryDate exitDate moveInDate relationshipToHoH }
}`;

export const HUD_CODES = `
query HudCodes($list: String!) { hudCodes(list: $list) { code label } }`;

export const HOUSEHOLD_WORDS = { INDIVIDUAL: 'Individual', FAMILY: 'Family', YOUTH: 'Youth' };

export const CE_STATUS_WORDS = { WAITING: 'Waiting for the provider', ACKNOWLEDGED: 'Acknowledged', RESOLVED: 'Resolved' };

export const RESULT_WORDS = {
  1: 'Accepted: the client was housed',
  2: 'Unsuccessful: the client rejected it',
  3: 'Unsuccessful: the provider rejected it',
};

export const NOT_HOUSED_WORDS = {
  CLIENT_DECLINED_UNIT: 'The client declined the unit',
  CLIENT_LOST_CONTACT: 'Lost contact with the client',
  CLIENT_HOUSED_ELSEWHERE: 'The client was housed elsewhere',
  LANDLORD_DECLINED: 'The landlord declined',
  NOT_ELIGIBLE: 'Not eligible',
  UNIT_NO_LONGER_AVAILABLE: 'The unit is no longer available',
  OTHER: 'Other',
};

export const days = (n) => (n === 1 ? '1 day' : `${n} days`);
export const score = (x) => (x == null ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(1));

/** Today as YYYY-MM-DD in the browser's time zone. */
export function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
