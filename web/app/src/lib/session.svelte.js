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
export function homeFor(viewer) {
  if (!viewer) return '/login';
  switch (viewer.role) {
    case 'SEEKER':
      return '/seeker';
    case 'PROGRAM_STAFF':
      return '/program';
    case 'CE_MANAGER': {
      const coc =
        viewer.organization?.cocCode ||
        viewer.memberships?.map((m) => m.organization?.cocCode).find(Boolean);
      return coc ? `/wall/${encodeURIComponent(coc)}` : '/wall/';
    }
    case 'NAVIGATOR':
    case 'ADMIN':
    default:
      return '/navigator';
  }
}
