// A tiny GraphQL client: queries and mutations over fetch, live events over graphql-ws.
import { createClient } from 'graphql-ws';
import { ApiError } from './errors.js';
import { live } from './live.svelte.js';
import { session, setToken } from './session.svelte.js';
import { navigate } from './router.svelte.js';
import { REFERRAL_FIELDS, REFERRAL_CHANGE_FIELDS, WALL_CHANGE_FIELDS } from './queries.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Forget the token and send the person to the sign-in page. Signing out on purpose also ends the
 * session on the server (POST /auth/logout), so the token is refused from then on; an expired one
 * has ended already.
 */
export function signOut({ expired = false } = {}) {
  if (!expired && session.token) {
    // keepalive: the request outlives the page if the person closes the tab right after.
    fetch('/auth/logout', { method: 'POST', headers: authHeaders(), keepalive: true }).catch(() => {});
  }
  setToken(null);
  session.viewer = null;
  session.loaded = true;
  resetLive();
  const next = expired ? '/login?expired=1' : '/login';
  navigate(next, { replace: true });
}

function authHeaders() {
  return session.token ? { authorization: `Bearer ${session.token}` } : {};
}

/** Run a query or mutation; resolve to `data` or throw an ApiError carrying the first error's code. */
export async function gql(query, variables = {}) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError('NETWORK', e?.message);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: fall through to the status */
  }
  const first = body?.errors?.[0];
  if (first || !body?.data) {
    let code = first?.extensions?.code;
    if (!code) {
      if (res.status === 401) code = 'UNAUTHENTICATED';
      else if (res.status === 403) code = 'FORBIDDEN';
      else if (res.status === 429) code = 'RATE_LIMITED';
      else code = 'INTERNAL';
    }
    const err = new ApiError(code, first?.message || body?.error || `HTTP ${res.status}`, body?.errors);
    if (code === 'UNAUTHENTICATED' && session.token) signOut({ expired: true });
    throw err;
  }
  return body.data;
}

function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a plain-HTTP address on a LAN has only getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Errors after which the request may still have been made: a resend must carry the same key.
const UNCERTAIN = new Set(['NETWORK', 'INTERNAL', 'RATE_LIMITED']);

/**
 * One form's create mutation, sent under an idempotency key per submission: a double click or a resend
 * after a network error carries the same key, so the server makes the record once and answers it
 * again. Once the server has answered (made it, or refused it) the next submission gets a new key.
 * Returns `send(query, input)`, which resolves to `data` like `gql`.
 */
export function submission() {
  let key = newKey();
  return async function send(query, input) {
    const sent = key;
    try {
      const data = await gql(query, { input: { ...input, idempotencyKey: sent } });
      if (key === sent) key = newKey();
      return data;
    } catch (e) {
      if (!UNCERTAIN.has(e.code) && key === sent) key = newKey();
      throw e;
    }
  };
}

/** POST /auth/login; stores the token. Throws ApiError with a readable message on failure. */
export async function logIn(email, password) {
  let res;
  try {
    res = await fetch('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    });
  } catch (e) {
    throw new ApiError('NETWORK', e?.message);
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    /* ignore */
  }
  if (res.status === 401 || res.status === 400) {
    throw new ApiError('BAD_USER_INPUT', body.error || "That email and password don't match an account.");
  }
  if (res.status === 429) throw new ApiError('RATE_LIMITED', body.error);
  if (!res.ok || !body.token) throw new ApiError('INTERNAL', body.error || `HTTP ${res.status}`);
  resetLive();
  setToken(body.token);
  return body.token;
}

// ---------------------------------------------------------------- live (graphql-ws)

let client = null;
let activeSubscriptions = 0;
let pingTimer = null;

function backoff(retries) {
  // 0.5 s, 1 s, 2 s, 4 s ... capped at 15 s, with jitter so a room of walls does not stampede.
  const base = Math.min(500 * 2 ** retries, 15000);
  return base / 2 + Math.random() * (base / 2);
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
}

function getClient() {
  if (client) return client;
  client = createClient({
    url: wsUrl(),
    lazy: true,
    lazyCloseTimeout: 3000,
    keepAlive: 10000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => sleep(backoff(retries)),
    connectionParams: () => (session.token ? { authorization: `Bearer ${session.token}` } : {}),
    on: {
      connecting: (isRetry) => {
        live.status = isRetry || live.status === 'live' || live.status === 'reconnecting' ? 'reconnecting' : 'connecting';
      },
      connected: (socket, payload, wasRetry) => {
        live.status = 'live';
        live.since = new Date();
        for (const listener of connectedListeners) listener(wasRetry);
      },
      ping: (received) => {
        if (received) return;
        // We sent a ping: if no pong comes back in 5 s the connection is dead; close it to reconnect.
        clearTimeout(pingTimer);
        const socket = currentSocket;
        pingTimer = setTimeout(() => {
          if (socket && socket.readyState === WebSocket.OPEN) socket.close(4408, 'Ping timeout');
        }, 5000);
      },
      pong: (received) => {
        if (received) clearTimeout(pingTimer);
      },
      opened: (socket) => {
        currentSocket = socket;
      },
      closed: (event) => {
        clearTimeout(pingTimer);
        currentSocket = null;
        live.status = activeSubscriptions > 0 ? 'reconnecting' : 'idle';
        // The server refuses the socket when the token is no longer good: check over HTTP once.
        const code = event?.code;
        if ((code === 4401 || code === 4403) && session.token) checkSessionSoon();
      },
    },
  });
  return client;
}
let currentSocket = null;
const connectedListeners = new Set();

let checking = null;
/** Ask over HTTP whether the token is still good; resolves true if so (else the person is sent to sign in). */
function checkSessionSoon() {
  if (checking) return checking;
  checking = gql('query { viewer { id } }')
    .then((d) => {
      if (!d.viewer) signOut({ expired: true });
      return Boolean(d.viewer);
    })
    .catch(() => false)
    .finally(() => {
      checking = null;
    });
  return checking;
}

/** Drop the live connection (on sign-out or organization switch); the next subscription reconnects. */
export function resetLive() {
  if (client) {
    const c = client;
    client = null;
    c.dispose();
  }
  clearTimeout(pingTimer);
  activeSubscriptions = 0;
  live.status = 'idle';
}

const REFERRAL_SUBSCRIPTION = `
subscription ReferralChanged($afterSeq: Int, $programId: ID) {
  referralChanged(afterSeq: $afterSeq, programId: $programId) {
    seq kind at
    change { ...ReferralChangeFields }
    referral { ...ReferralFields }
  }
}
${REFERRAL_CHANGE_FIELDS}
${REFERRAL_FIELDS}`;

const WALL_SUBSCRIPTION = `
subscription WallboardChanged($cocCode: String!, $afterSeq: Int) {
  wallboardChanged(cocCode: $cocCode, afterSeq: $afterSeq) { ...WallChangeFields }
}
${WALL_CHANGE_FIELDS}`;

/**
 * Follow referralChanged. Load the page's query first and pass its `lastSeq` as afterSeq: the
 * server replays whatever happened between the load and the subscription, then streams live.
 *   onEvent(event)     CREATED / STATUS_CHANGED / COMMENT_ADDED: `change` says what that event
 *                      changed, as it happened; `referral` is the referral as it is now
 *   onResync()         the page must refetch its query (RESYNC, or a connection with no afterSeq)
 * Returns a function that stops following.
 */
export function followReferrals({ programId = null, afterSeq = null, onEvent, onResync, onError }) {
  return follow({ query: REFERRAL_SUBSCRIPTION, field: 'referralChanged', variables: { afterSeq, programId }, onEvent, onResync, onError });
}

/**
 * Follow wallboardChanged for one CoC: each event is a WallChange (its own fromStatus/toStatus, and
 * the referral in the wall's shape). Same contract as followReferrals; start from the board's lastSeq.
 */
export function followWallboard({ cocCode, afterSeq = null, onEvent, onResync, onError }) {
  return follow({ query: WALL_SUBSCRIPTION, field: 'wallboardChanged', variables: { cocCode, afterSeq }, onEvent, onResync, onError });
}

/**
 * Remembers the highest seq seen and re-subscribes with it as afterSeq after every reconnect, so
 * nothing is missed and nothing is applied twice. An event without its `subject` (the field that
 * carries the thing followed: `referral` unless said) is a RESYNC.
 */
export function follow({ query, field, variables, onEvent, onResync, onError, subject = 'referral' }) {
  // graphql-ws re-sends this same payload object on every reconnect, so keeping afterSeq current in
  // it is what makes the re-subscription resume where it left off.
  const payload = { query, variables };
  let stopped = false;
  let unsubscribe = () => {};

  const onConnected = () => {
    // Without a position to resume from (the page's load failed, and no event came since), the
    // page cannot know what it missed: refetch instead.
    if (variables.afterSeq == null) onResync?.();
  };
  connectedListeners.add(onConnected);
  const offConnected = () => connectedListeners.delete(onConnected);

  const start = () => {
    if (stopped) return;
    activeSubscriptions++;
    let ended = false;
    const end = () => {
      if (!ended) {
        ended = true;
        activeSubscriptions--;
      }
    };
    const dispose = getClient().subscribe(payload, {
      next: (result) => {
        const event = result?.data?.[field];
        if (result?.errors?.length && !event) {
          onError?.(new ApiError(result.errors[0]?.extensions?.code || 'INTERNAL', result.errors[0]?.message));
          return;
        }
        if (!event) return;
        live.lastEventAt = new Date();
        if (event.kind === 'RESYNC' || !event[subject]) {
          if (variables.afterSeq == null || event.seq > variables.afterSeq) variables.afterSeq = event.seq;
          onResync?.();
          return;
        }
        if (variables.afterSeq != null && event.seq <= variables.afterSeq) return; // already applied
        variables.afterSeq = event.seq;
        onEvent?.(event);
      },
      error: (err) => {
        end();
        const first = Array.isArray(err) ? err[0] : null;
        const code = first?.extensions?.code;
        if (code === 'UNAUTHENTICATED') {
          // The stream ended because the session did (signed out, idle, expired: off to sign in) or
          // because the person's access changed (another organization, a removed role): then open it
          // again as they are now, and refetch the page, which was loaded for the old access.
          checkSessionSoon().then((stillSignedIn) => {
            if (!stillSignedIn) {
              onError?.(new ApiError(code, first?.message));
            } else if (!stopped) {
              variables.afterSeq = null;
              onResync?.();
              setTimeout(start, 500);
            }
          });
          return;
        }
        if (code === 'FORBIDDEN') {
          onError?.(new ApiError(code, first?.message));
          return;
        }
        // Anything else (server error, fatal close): try again shortly, resuming from afterSeq.
        if (!stopped) setTimeout(start, backoff(2));
      },
      complete: () => {
        end();
        // The server ended the stream (e.g. restart): resume unless we asked it to stop.
        if (!stopped) setTimeout(start, 1000);
      },
    });
    unsubscribe = () => {
      end();
      dispose();
    };
  };
  start();

  return () => {
    stopped = true;
    offConnected();
    unsubscribe();
    if (activeSubscriptions <= 0 && live.status !== 'live') live.status = 'idle';
  };
}
