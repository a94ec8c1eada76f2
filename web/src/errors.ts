// Turning what the API (or the network) said into something a person can act on.
//
// The server's contract: every GraphQL error has extensions.code; some carry
// extensions.field, attemptsLeft or retryAfter. We branch on codes only, never
// on message text, and anything we do not recognise still gets a sentence.
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import type { GraphQLFormattedError } from 'graphql';

/** Problem is one thing that went wrong, ready to show. */
export interface Problem {
  code: ErrorCode;
  /** What to tell the person. */
  message: string;
  /** The input field it belongs to, if any ("email", "phone", "code", …). */
  field?: string;
  attemptsLeft?: number;
  /** Seconds to wait before trying again. */
  retryAfter?: number;
}

type Details = Pick<Problem, 'field' | 'attemptsLeft' | 'retryAfter'>;

const ourSide = 'Something went wrong on our side. Try again.';

// Every code the app knows, each with the sentence shown when the server has
// no better one. This is the only list: ErrorCode, the known-code check and
// messageFor all come from it, so a new server code is one line here.
const messages = {
  BAD_USER_INPUT: 'Check this value.',
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead, or use another email.',
  PHONE_TAKEN: 'This phone number belongs to another account. Use another number.',
  // With a field, a signed-in person's password asked again (currentPassword,
  // password); without one, a sign-in, where the email may be the wrong part.
  INVALID_CREDENTIALS: ({ field }) => (field === undefined ? 'The email or password is wrong.' : 'That password is wrong.'),
  INVALID_OTP: ({ attemptsLeft }) => {
    if (attemptsLeft === undefined) return 'That code is wrong.';
    if (attemptsLeft === 0) return 'That code is wrong, and there are no attempts left.';
    return `That code is wrong. You have ${plural(attemptsLeft, 'attempt')} left.`;
  },
  MFA_TOKEN_INVALID:
    'This sign-in has expired or was already used, so its code no longer works. Sign in again to get a new code.',
  RATE_LIMITED: ({ retryAfter }) =>
    retryAfter === undefined
      ? 'Too many attempts. Wait a little, then try again.'
      : `Too many attempts. Try again in ${formatDuration(retryAfter)}.`,
  OTP_DELIVERY_FAILED: 'We could not send the code to your phone. Try again in a moment.',
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  // refreshSession's answer for a session that is over (expired, revoked,
  // signed out, or its refresh token reused): nothing to retry.
  REFRESH_TOKEN_INVALID: 'Your session ended. Sign in again.',
  // A field for administrators; this app asks for none yet.
  FORBIDDEN: 'You do not have permission to do this.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable. Try again in a moment.',
  INTERNAL_SERVER_ERROR: ourSide,
  // Refusals before GraphQL runs, and GraphQL's own: this app sent a request
  // the server would not take, which is our side too.
  BAD_REQUEST: ourSide,
  UNSUPPORTED_MEDIA_TYPE: ourSide,
  REQUEST_TOO_LARGE: ourSide,
  GRAPHQL_PARSE_FAILED: ourSide,
  GRAPHQL_VALIDATION_FAILED: ourSide,
  COMPLEXITY_LIMIT_EXCEEDED: ourSide,
  // Not from the server: the request did not get a GraphQL answer.
  NETWORK_ERROR: 'We could not reach the server. Check your connection and try again.',
  // From the server, but a code this app does not know (a newer server).
  UNKNOWN: ourSide,
} satisfies Record<string, string | ((d: Details) => string)>;

/** ErrorCode is a code the app knows: the server's, plus NETWORK_ERROR and UNKNOWN. */
export type ErrorCode = keyof typeof messages;

/** errorCodes lists every ErrorCode. */
export const errorCodes = Object.keys(messages) as ErrorCode[];

// The codes this app makes up; a server that sends one is not understood.
const clientOnly: readonly ErrorCode[] = ['NETWORK_ERROR', 'UNKNOWN'];

function isServerCode(code: string): code is ErrorCode {
  return Object.hasOwn(messages, code) && !clientOnly.includes(code as ErrorCode);
}

/**
 * problemsOf lists the problems in an error thrown by Apollo Client (a
 * mutation's promise or a query's error). It never returns an empty list.
 */
export function problemsOf(error: unknown): Problem[] {
  let errors: readonly GraphQLFormattedError[] = [];
  if (CombinedGraphQLErrors.is(error)) {
    errors = error.errors;
  } else if (ServerError.is(error)) {
    // A non-2xx answer (a proxy, or a server that rate-limits with 429) may
    // still carry GraphQL errors with codes; use them if it does.
    errors = errorsInBody(error.bodyText);
    if (errors.length === 0) return [fromCode(codeForStatus(error.statusCode))];
  } else {
    // fetch failed (offline, server down) or the answer was not JSON.
    return [fromCode('NETWORK_ERROR')];
  }
  const problems = errors.map(fromGraphQLError);
  return problems.length > 0 ? problems : [fromCode('UNKNOWN')];
}

// A bare 503 is a proxy or load balancer saying the server is out for now.
function codeForStatus(status: number): ErrorCode {
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'NETWORK_ERROR';
}

function errorsInBody(bodyText: string): GraphQLFormattedError[] {
  try {
    const body: unknown = JSON.parse(bodyText);
    if (typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors)) {
      return body.errors as GraphQLFormattedError[];
    }
  } catch {
    // Not JSON: an HTML error page or similar.
  }
  return [];
}

function fromGraphQLError(e: GraphQLFormattedError): Problem {
  const ext = e.extensions ?? {};
  const raw = typeof ext.code === 'string' ? ext.code : '';
  const code: ErrorCode = isServerCode(raw) ? raw : 'UNKNOWN';
  const p = fromCode(code, {
    field: typeof ext.field === 'string' ? ext.field : undefined,
    attemptsLeft: typeof ext.attemptsLeft === 'number' ? ext.attemptsLeft : undefined,
    retryAfter: typeof ext.retryAfter === 'number' ? ext.retryAfter : undefined,
  });
  // Only input errors are written for the person filling in the form (which
  // rule the value broke); every other message is for developers.
  if (code === 'BAD_USER_INPUT' && e.message) p.message = sentence(e.message);
  return p;
}

function fromCode(code: ErrorCode, details: Omit<Problem, 'code' | 'message'> = {}): Problem {
  const p: Problem = { code, message: '' };
  if (details.field !== undefined) p.field = details.field;
  if (details.attemptsLeft !== undefined) p.attemptsLeft = details.attemptsLeft;
  if (details.retryAfter !== undefined) p.retryAfter = details.retryAfter;
  p.message = messageFor(p);
  return p;
}

/** messageFor is the sentence for a problem that has no better one from the server. */
export function messageFor(p: Pick<Problem, 'code'> & Details): string {
  const m: string | ((d: Details) => string) = messages[p.code];
  return typeof m === 'string' ? m : m(p);
}

/** hasCode reports whether any problem has one of the codes. */
export function hasCode(problems: readonly Problem[], ...codes: ErrorCode[]): boolean {
  return problems.some((p) => codes.includes(p.code));
}

// Codes that are about one input even when the server names no field.
const impliedField: Partial<Record<ErrorCode, string>> = { EMAIL_TAKEN: 'email', PHONE_TAKEN: 'phone', INVALID_OTP: 'code' };

/**
 * splitByField puts each problem that belongs to one of fields at that field
 * (extensions.field, or the field its code implies) and returns the first of
 * the rest as the form's problem.
 */
export function splitByField<F extends string>(
  problems: readonly Problem[],
  fields: readonly F[],
): { fieldErrors: Partial<Record<F, string>>; formProblem: Problem | null } {
  const fieldErrors: Partial<Record<F, string>> = {};
  let formProblem: Problem | null = null;
  for (const p of problems) {
    const field = p.field ?? impliedField[p.code];
    if (field !== undefined && (fields as readonly string[]).includes(field)) {
      fieldErrors[field as F] ??= p.message;
    } else {
      formProblem ??= p;
    }
  }
  return { fieldErrors, formProblem };
}

/** formatDuration writes seconds the way a person would say them. */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return plural(s, 'second');
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m >= 60) {
    const h = Math.floor(m / 60);
    return m % 60 === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(m % 60, 'minute')}`;
  }
  return rest === 0 ? plural(m, 'minute') : `${plural(m, 'minute')} ${plural(rest, 'second')}`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function sentence(s: string): string {
  const t = s.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
