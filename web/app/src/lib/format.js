// Words for the API's enums, and dates people can read.
// The statuses' words come from the API's one vocabulary (resolvers/words.py, also served as
// `statusWords`): `make docs` writes words.json from it, and tests/test_words.py fails if they drift.
import WORDS from './words.json';

const entries = Object.entries(WORDS.statuses);
export const STATUS_WORDS = Object.fromEntries(entries.map(([s, w]) => [s, w.label]));

/** What a status means, told to the seeker. */
export const STATUS_FOR_SEEKER = Object.fromEntries(entries.map(([s, w]) => [s, w.sentence]));

export const STATUS_ORDER = Object.keys(STATUS_WORDS);

/** The seeker's buttons, in their own words; any other status the API allows gets its usual name. */
export const SEEKER_CHOICE_WORDS = Object.fromEntries(entries.filter(([, w]) => w.seekerAction).map(([s, w]) => [s, w.seekerAction]));
export const seekerChoiceWords = (s) => SEEKER_CHOICE_WORDS[s] || STATUS_WORDS[s] || s;

export const GROUP_OF = {
  NOT_UPDATED: 'IN_PROGRESS',
  NEEDS_CLIENT_ACTION: 'IN_PROGRESS',
  PENDING: 'IN_PROGRESS',
  REFERRED_ELSEWHERE: 'IN_PROGRESS',
  ELIGIBLE: 'IN_PROGRESS',
  GOT_HELP: 'GOT_HELP',
  COULDNT_GET_HELP: 'NEEDS_FURTHER_ACTION',
  COULDNT_CONTACT: 'NEEDS_FURTHER_ACTION',
  NOT_ELIGIBLE: 'NEEDS_FURTHER_ACTION',
  NO_CAPACITY: 'NEEDS_FURTHER_ACTION',
  NO_LONGER_INTERESTED: 'NEEDS_FURTHER_ACTION',
};

export const GROUP_WORDS = {
  IN_PROGRESS: 'In progress',
  GOT_HELP: 'Got help',
  NEEDS_FURTHER_ACTION: 'Needs further action',
};

export const statusWords = (s) => STATUS_WORDS[s] || s || '';

/** One status change as it happened: "Not updated yet → Eligible" (just the new status if there was no old one). */
export function changeWords(fromStatus, toStatus) {
  if (!toStatus) return '';
  return fromStatus ? `${statusWords(fromStatus)} → ${statusWords(toStatus)}` : statusWords(toStatus);
}
export const groupOf = (r) => r?.statusGroup || GROUP_OF[r?.status] || 'IN_PROGRESS';

export const KIND_WORDS = Object.fromEntries(Object.entries(WORDS.kinds).map(([k, w]) => [k, w.label]));

export const CONNECT_LABEL = {
  REFER: 'Refer',
  APPLY: 'Apply',
  SCHEDULE: 'Schedule',
  CONTACT: 'Contact',
  EXTERNAL: 'Log referral',
};

export const CONTACT_WORDS = {
  EMAIL: 'Email',
  TEXT: 'Text',
  PHONE: 'Phone',
  NONE: "Don't reach out",
};

export const CATEGORY_WORDS = {
  FOOD: 'Food',
  HOUSING: 'Housing',
  HEALTH: 'Health',
  LEGAL: 'Legal',
  EMPLOYMENT: 'Employment',
  CHILD_CARE: 'Child care',
  TRANSPORTATION: 'Transportation',
};

export const ROLE_WORDS = {
  SEEKER: 'Seeker',
  NAVIGATOR: 'Navigator',
  PROGRAM_STAFF: 'Program staff',
  CE_MANAGER: 'CE manager',
  ADMIN: 'Administrator',
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return isToday(d) ? `Today ${timeOnly.format(d)}` : dateTime.format(d);
}

export function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : timeOnly.format(d);
}

export function isToday(d) {
  const date = d instanceof Date ? d : new Date(d);
  const now = new Date();
  return date.getFullYear() === now.getFullYear() && date.getMonth() === now.getMonth() && date.getDate() === now.getDate();
}

/** "3 days", "5 hours", "12 minutes" since iso. */
export function age(iso, now = Date.now()) {
  const ms = Math.max(0, now - new Date(iso).getTime());
  const minutes = Math.floor(ms / 60000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

export function seekerName(s) {
  if (!s) return 'Unknown';
  return [s.firstName, s.lastName].filter(Boolean).join(' ') || 'Unnamed';
}

/** Keep a list of referrals in step with a pushed referral: replace by id unless ours is newer. */
export function upsert(list, referral, { prepend = true } = {}) {
  const i = list.findIndex((r) => r.id === referral.id);
  if (i === -1) return prepend ? [referral, ...list] : [...list, referral];
  if ((list[i].version ?? 0) > (referral.version ?? 0)) return list;
  const copy = list.slice();
  copy[i] = referral;
  return copy;
}
