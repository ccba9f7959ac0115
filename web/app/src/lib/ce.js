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
    id programId description size openedOn eligibilityNotes daysVacant filledOn householdType
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

/** What the wall's Today feed says of a CE step (4.20.D results in the CE team's words). */
export const WALL_RESULT_WORDS = { 1: 'Housed', 2: 'Client rejected', 3: 'Provider rejected' };
export function wallCeWords(ce) {
  if (ce.action === 'RESOLVED') return WALL_RESULT_WORDS[ce.result?.code] || ce.result?.label || 'Resolved';
  return { REFERRED: 'Referred through CE', ACKNOWLEDGED: 'Acknowledged', NOT_HOUSED_REASON: 'Not-housed reason recorded' }[ce.action] || ce.action;
}

/**
 * Svelte action for a wall list: hides the rows that do not fit whole in the list's box (none is cut
 * mid-line) and reports how many are shown, so that the panel can say "+N more".
 */
export function fitRows(node, onShown) {
  let frame = 0;
  let report = onShown;
  const measure = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const rows = [...node.children];
      for (const row of rows) row.style.display = '';
      const bottom = node.getBoundingClientRect().bottom;
      let shown = 0;
      let full = false;
      for (const row of rows) {
        full = full || row.getBoundingClientRect().bottom > bottom + 0.5;
        row.style.display = full ? 'none' : '';
        if (!full) shown++;
      }
      report?.(shown);
    });
  };
  const resized = new ResizeObserver(measure);
  resized.observe(node);
  const changed = new MutationObserver(measure);
  changed.observe(node, { childList: true, subtree: true, characterData: true });
  measure();
  return {
    update(next) { report = next; measure(); },
    destroy() { resized.disconnect(); changed.disconnect(); cancelAnimationFrame(frame); },
  };
}
