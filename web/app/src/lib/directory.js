// A program's HSDS-shaped details (locations, phones, schedules, languages) in words for a card.
const DAYS = { MO: 'Mon', TU: 'Tue', WE: 'Wed', TH: 'Thu', FR: 'Fri', SA: 'Sat', SU: 'Sun' };

export const PROGRAM_DETAILS = `
  locations { name address { address1 address2 city stateProvince postalCode } }
  phones { number type languages }
  schedules { byDay opensAt closesAt description }
  languages`;

function time(hhmm) {
  if (!hhmm) return '';
  const [h, m] = hhmm.split(':').map(Number);
  const suffix = h >= 12 ? 'pm' : 'am';
  const hour = h % 12 || 12;
  return m ? `${hour}:${String(m).padStart(2, '0')}${suffix}` : `${hour}${suffix}`;
}

function days(byDay) {
  const list = (byDay || '').split(',').map((d) => d.trim()).filter(Boolean);
  if (list.join(',') === 'MO,TU,WE,TH,FR') return 'Mon–Fri';
  return list.map((d) => DAYS[d] || d).join(', ');
}

export function hoursWords(schedules) {
  return (schedules ?? [])
    .map((s) => (s.opensAt && s.closesAt ? `${days(s.byDay)} ${time(s.opensAt)}–${time(s.closesAt)}`.trim() : s.description || ''))
    .filter(Boolean)
    .join('; ');
}

export function addressWords(locations) {
  const a = (locations ?? []).map((l) => l.address).find(Boolean);
  if (!a) return '';
  return [a.address1, a.address2, a.city, `${a.stateProvince} ${a.postalCode}`.trim()].filter(Boolean).join(', ');
}

export const telHref = (number) => `tel:${(number || '').replace(/[^\d+]/g, '')}`;
