// The signed-in person: their token (kept in localStorage) and the `viewer` the API reports.
const KEY = 'referloop.token';

function readToken() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export const session = $state({ token: readToken(), viewer: null, loaded: false });

export function setToken(token) {
  session.token = token;
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    /* private mode: the token lives for this tab only */
  }
}

/** Where each role lands after signing in. */
/** The CE wall display of the CoC a CE manager acts for ("/wall/" when there is none). */
export function wallFor(viewer) {
  const coc = viewer?.organization?.cocCode || viewer?.memberships?.map((m) => m.organization?.cocCode).find(Boolean);
  return coc ? `/wall/${encodeURIComponent(coc)}` : '/wall/';
}

export function homeFor(viewer) {
  if (!viewer) return '/login';
  switch (viewer.role) {
    case 'SEEKER':
      return '/seeker';
    case 'PROGRAM_STAFF':
      return '/program';
    case 'CE_MANAGER':
      // CE managers work on the CE page; the wall display is opened (and bookmarked) on its own screen.
      return '/ce';
    case 'NAVIGATOR':
    case 'ADMIN':
    default:
      return '/navigator';
  }
}
