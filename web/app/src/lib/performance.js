// The performance page's documents and the words and numbers it shows (schema.graphql: Query.performance).
export const PERFORMANCE_SCOPES = `
query PerformanceScopes { performanceScopes { kind id name organizationName } }`;

export const PERFORMANCE = `
query Performance($scope: PerformanceScopeInput!, $from: Date!, $to: Date!) {
  performance(scope: $scope, from: $from, to: $to) {
    scope { kind id name } from to
    referralsMade acknowledged acknowledgedShare medianDaysToAcknowledge
    gotHelp gotHelpShare resolved resolvedShare medianDaysToResolve
    enrolled enrolledShare housed housedShare medianDaysToMoveIn
    byStatus { status count }
    byNotHousedReason { reason count }
    series { periodStart made gotHelp housed }
    suppressed minimumCellSize
  }
}`;

export const SCOPE_WORDS = { COC: 'Continuum of Care', ORGANIZATION: 'Organization', AGREEMENT: 'Data sharing agreement', PROGRAM: 'Program' };

/** The scope input for one option: exactly one key, as the API requires. */
export function scopeInput(option) {
  if (option.kind === 'COC') return { cocCode: option.id };
  if (option.kind === 'ORGANIZATION') return { organizationId: option.id };
  if (option.kind === 'AGREEMENT') return { agreementId: option.id };
  return { programId: option.id };
}

/** A count as shown: an agreement's counts under its minimum cell size come back null. */
export const count = (n, floor) => (n === null || n === undefined ? `fewer than ${floor ?? 11}` : String(n));

export const percent = (share) => (share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`);
export const dayCount = (n) => (n === null || n === undefined ? '—' : `${n.toFixed(1)} days`);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "2025-03-01" -> "Mar 2025", without the browser's time zone moving it a day. */
export const monthLabel = (iso) => `${MONTHS[Number(iso.slice(5, 7)) - 1]} ${iso.slice(0, 4)}`;

/** ISO dates of the default range: the last twelve months, today included (UTC, as the API counts days). */
export function lastTwelveMonths(now = new Date()) {
  const to = now.toISOString().slice(0, 10);
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1));
  return { from: start.toISOString().slice(0, 10), to };
}
