// Plain-language messages for the API's `extensions.code`.
export class ApiError extends Error {
  constructor(code, message, details = null) {
    super(message || code);
    this.code = code;
    this.details = details;
  }
}

const MESSAGES = {
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: "You don't have access to this with the organization you're acting for. Try switching organization.",
  NOT_FOUND: "We couldn't find that. It may have been removed, or you may not have access to it.",
  BAD_USER_INPUT: 'Please check what you entered.',
  CONFLICT: 'Someone else changed this referral a moment ago. We reloaded it so you can see the latest; please review and try again.',
  RATE_LIMITED: "You're going a bit fast. Please wait a few seconds and try again.",
  NETWORK: "Can't reach Referloop right now. Check your connection and try again.",
  INTERNAL: 'Something went wrong on our side. Please try again; if it keeps happening, tell your administrator.',
};

/** The message to show a person for an error thrown by the API helpers. */
export function messageFor(error) {
  if (!error) return '';
  const code = error.code || 'INTERNAL';
  // A form resent (after a network error) with other details than the submission that went through.
  if (error.details?.[0]?.extensions?.reason === 'IDEMPOTENCY_KEY_REUSED') {
    return 'This was already saved as first sent, before your changes. Reload to see it, or send the form again to save your changes as a new one.';
  }
  // Input, permission and not-found messages from the API are written for people: show them as they are.
  if ((code === 'BAD_USER_INPUT' || code === 'FORBIDDEN' || code === 'NOT_FOUND') && error.message && error.message !== code) {
    return error.message;
  }
  return MESSAGES[code] || MESSAGES.INTERNAL;
}
