// Shared cases and releases of information: the queries, the words for their enums, the live feed.
import { follow } from './api.js';

export const CASE_FIELDS = `
fragment CaseFields on Case {
  id version stage openedOn movedInOn stabilizingOn closedOn closureReason assistanceEndsOn
  withheld viewerCan lastSeq
  leadOrganization { id name }
  leadContacts { id person { id name } organization { id name } role }
  workers { id person { id name } organization { id name } role addedOn }
  household { seekerId isHead firstName lastName email phone }
  records {
    id kind scope organizationId on body version createdAt
    goalStatus targetDate
    contactType minutes location intensity strengths
    attendees nextSteps { who what by }
    assistanceKind amount payee periodStart periodEnd
    linkedId
  }
}`;

export const CASES = `
query Cases($after: String) {
  cases(first: 50, after: $after) {
    lastSeq
    edges { node { id stage openedOn closedOn withheld leadOrganization { id name }
      household { seekerId isHead firstName lastName } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const CASE = `query Case($id: ID!) { case(id: $id) { ...CaseFields } } ${CASE_FIELDS}`;

const mutation = (name, input, field) =>
  `mutation ${name}($input: ${input}!) { ${field}(input: $input) { ...CaseFields } } ${CASE_FIELDS}`;

export const SET_STAGE = mutation('SetCaseStage', 'SetCaseStageInput', 'setCaseStage');
export const ADD_GOAL = mutation('AddCaseGoal', 'AddCaseGoalInput', 'addCaseGoal');
export const ADD_CONTACT = mutation('RecordServiceContact', 'RecordServiceContactInput', 'recordServiceContact');
export const ADD_NOTE = mutation('AddCaseNote', 'AddCaseNoteInput', 'addCaseNote');
export const ADD_CONFERENCE = mutation('RecordCaseConference', 'RecordCaseConferenceInput', 'recordCaseConference');
export const ADD_ASSISTANCE = mutation('RecordFinancialAssistance', 'RecordFinancialAssistanceInput', 'recordFinancialAssistance');
export const UPDATE_GOAL = `
mutation UpdateCaseGoal($goalId: ID!, $status: GoalStatus!, $expectedVersion: Int!) {
  updateCaseGoal(goalId: $goalId, status: $status, expectedVersion: $expectedVersion) { ...CaseFields }
} ${CASE_FIELDS}`;
export const SET_ASSISTANCE_END = `
mutation SetAssistanceEnd($caseId: ID!, $on: Date) { setAssistanceEnd(caseId: $caseId, on: $on) { ...CaseFields } } ${CASE_FIELDS}`;

const CONSENT_FIELDS = `
  id seekerId scopes startsOn endsOn state grantedBy guardianName guardianRelationship capturedHow witnessName revokedAt createdAt
  toOrganization { id name }
  toAgreement { id name }`;
export const CONSENTS = `query Consents($seekerId: ID!) { consents(seekerId: $seekerId) { ${CONSENT_FIELDS} } }`;
export const AGREEMENTS = `query Agreements { dataSharingAgreements { id name purpose inForce startsOn endsOn scopes parties { id name } } }`;
export const GRANT_CONSENT = `mutation GrantConsent($input: GrantConsentInput!) { grantConsent(input: $input) { ${CONSENT_FIELDS} } }`;
export const REVOKE_CONSENT = `mutation RevokeConsent($id: ID!) { revokeConsent(consentId: $id) { ${CONSENT_FIELDS} } }`;

const CASE_SUBSCRIPTION = `
subscription CaseChanged($caseId: ID!, $afterSeq: Int) {
  caseChanged(caseId: $caseId, afterSeq: $afterSeq) { seq kind at case { ...CaseFields } }
} ${CASE_FIELDS}`;

/** Follow caseChanged from the case's lastSeq: onEvent({ kind, case }) with the case as the viewer may see it now. */
export function followCase({ caseId, afterSeq = null, onEvent, onResync, onError }) {
  return follow({ query: CASE_SUBSCRIPTION, field: 'caseChanged', variables: { caseId, afterSeq }, onEvent, onResync, onError, subject: 'case' });
}

export const STAGES = ['OBTAIN_HOUSING', 'MOVED_IN', 'STABILIZING', 'CLOSED'];
export const STAGE_WORDS = {
  OBTAIN_HOUSING: 'Obtaining housing',
  MOVED_IN: 'Moved in',
  STABILIZING: 'Stabilizing',
  CLOSED: 'Closed',
};
export const CLOSURE_WORDS = {
  STABLY_HOUSED: 'Stably housed',
  HOUSED_ELSEWHERE: 'Housed elsewhere',
  DECLINED_SERVICES: 'Declined services',
  LOST_CONTACT: 'Lost contact',
  MOVED_AWAY: 'Moved away',
  TRANSFERRED: 'Transferred',
  OTHER: 'Other',
};
export const CASE_ROLE_WORDS = {
  LEAD_CASE_MANAGER: 'Lead case manager',
  HOUSING_CASE_MANAGER: 'Housing case manager',
  CHILD_WELFARE_CASEWORKER: 'Child welfare caseworker',
  LIAISON: 'Liaison',
  OTHER: 'Other',
};
export const GOAL_WORDS = { NOT_STARTED: 'Not started', IN_PROGRESS: 'In progress', MET: 'Met', SET_ASIDE: 'Set aside' };
export const CONTACT_TYPE_WORDS = {
  HOME_VISIT: 'Home visit',
  OFFICE_VISIT: 'Office visit',
  PHONE: 'Phone',
  VIDEO: 'Video',
  COMMUNITY: 'In the community',
  ACCOMPANIMENT: 'Accompaniment',
};
export const INTENSITY_WORDS = { LIGHT: 'Light', MODERATE: 'Moderate', INTENSIVE: 'Intensive' };
export const ASSISTANCE_WORDS = {
  RENT: 'Rent',
  SECURITY_DEPOSIT: 'Security deposit',
  MOVE_IN_COSTS: 'Move-in costs',
  UTILITIES: 'Utilities',
  UTILITY_DEPOSIT: 'Utility deposit',
  FURNITURE: 'Furniture',
  OTHER: 'Other',
};
export const SCOPES = ['CASE_NOTES', 'CONTACT', 'CHILD_WELFARE', 'REFERRALS', 'FINANCIAL_ASSISTANCE'];
export const SCOPE_WORDS = {
  CONTACT: 'Contact details',
  REFERRALS: 'Referrals',
  CASE_NOTES: 'Case notes',
  CHILD_WELFARE: 'Child welfare status',
  FINANCIAL_ASSISTANCE: 'Financial assistance',
};
/** What `Case.withheld` names, in words. */
export const WITHHELD_WORDS = {
  HOUSEHOLD: "The household's names",
  CONTACT: "The household's phone and email",
  STAGE: "The case's stage and its dates",
  MEMBERS: 'The workers on the case',
  LEAD: 'Who leads the case',
};
export const CONSENT_STATE_WORDS = { PENDING: 'Pending', ACTIVE: 'Active', EXPIRED: 'Expired', REVOKED: 'Revoked' };
export const CAPTURE_WORDS = {
  SIGNED_PAPER: 'Signed on paper',
  SIGNED_ELECTRONICALLY: 'Signed electronically',
  VERBAL_WITNESSED: 'Verbal, witnessed',
};

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
/** "Dec 1, 2026" for an ISO date (a day, not a moment: no time zone shift). */
export function day(iso) {
  if (!iso) return '';
  const d = new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? String(iso) : dayFormat.format(d);
}

/** Today as YYYY-MM-DD in the person's own time zone. */
export function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The same day `years` later (28 February for 29 February), as the API's default end of a release. */
export function addYears(iso, years) {
  const [y, m, d] = iso.split('-').map(Number);
  const target = new Date(Date.UTC(y + years, m - 1, d));
  if (target.getUTCMonth() !== m - 1) target.setUTCDate(0);
  return target.toISOString().slice(0, 10);
}

export function householdNames(c) {
  if (!c.household?.length) return null;
  return c.household.map((p) => `${p.firstName} ${p.lastName}`).join(', ');
}
