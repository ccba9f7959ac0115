// The audit trail's documents and plain words for it (schema.graphql: Query.auditTrail).
export const AUDIT_TRAIL = `
query AuditTrail($seekerId: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  auditTrail(seekerId: $seekerId, from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { id at action scopes operation organizationName actingRole actorName actorEmail seekerId subjectType subjectId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const SCOPE_WORDS = {
  NAME: 'your name',
  CONTACT: 'your phone and email',
  SCREENER_ANSWERS: 'your answers to a program’s questions',
  COMMENTS: 'comments on a referral',
  HISTORY: 'the history of a referral',
  HMIS_ELEMENTS: 'your HMIS details (birth date, race, gender, veteran status)',
  REFERRALS: 'your referrals',
  ENROLLMENTS: 'your enrollments in programs',
  CE_ASSESSMENT: 'your Coordinated Entry assessment',
  CASE_NOTES: 'case notes',
  CHILD_WELFARE: 'child welfare records',
  FINANCIAL_ASSISTANCE: 'financial assistance',
  CONSENT: 'your releases of information',
};

export const ACTION_WORDS = { READ: 'looked at', WRITE: 'changed or added to', PUSH: 'was sent a live update with' };

// Where the data was seen, by the operation's root field ("query Inbound.inboundReferrals").
const PLACES = {
  inboundReferrals: 'their inbound referrals list',
  peopleImHelping: 'their list of people they are helping',
  referralsForMe: 'your own referrals page',
  seekerProfiles: 'a search for people',
  referral: 'a referral’s page',
  node: 'a referral or profile page',
  enrollments: 'their enrollments list',
  priorityList: 'the Coordinated Entry priority list',
  ceEvents: 'Coordinated Entry events',
  cases: 'their cases list',
  case: 'a case page',
  consents: 'the releases of information',
  familiesKnownToBoth: 'an agreement’s list of families known to both agencies',
  createReferral: 'making a referral',
  updateReferralStatus: 'updating a referral',
  addReferralComment: 'commenting on a referral',
  referralChanged: 'a live update of a referral',
  caseChanged: 'a live update of a case',
};
const FIXED = { 'email-link': 'a link in an email', export: 'an HMIS export', cli: 'an operator’s command' };

/** "query Inbound.inboundReferrals" -> "their inbound referrals list"; the raw operation when it is unknown. */
export function placeWords(operation) {
  if (FIXED[operation]) return FIXED[operation];
  const field = (operation || '').split('.').pop();
  return PLACES[field] || operation;
}

export function scopeList(scopes) {
  const words = scopes.map((s) => SCOPE_WORDS[s] || s.toLowerCase());
  if (words.length < 2) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
