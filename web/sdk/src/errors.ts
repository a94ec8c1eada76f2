// What went wrong, as the server said it (extensions.code and its
// extensions), or as fetch said it (NETWORK_ERROR), and the sentence to show.
//
// Branch on codes, never on message text. Only two messages from the server
// are meant for people: BAD_USER_INPUT's (which rule the value broke) and
// RATE_LIMITED's (which limit, and how long to wait); every other code has
// its sentence here.

/** RateLimitReason is RATE_LIMITED's extensions.reason. The set only grows. */
export type RateLimitReason =
  | 'ip'
  | 'account_block'
  | 'account_per_hour'
  | 'account_per_day'
  | 'phone_cooldown'
  | 'phone_per_hour'
  | 'phone_per_day'
  | 'unverified_account_per_day'
  | 'sms_ceiling'
  | 'reset_per_email'
  | 'provider'
  | 'hash_capacity';

/** StepKind is the flow a step token belongs to: mfaToken, resetToken or changeToken. */
export type StepKind = 'login' | 'passwordReset' | 'phoneChange';

/** InputField is an input the server names in extensions.field. */
export type InputField =
  | 'email'
  | 'password'
  | 'phone'
  | 'code'
  | 'mfaToken'
  | 'resetToken'
  | 'changeToken'
  | 'currentPassword'
  | 'newPassword'
  | 'newPhone';

// A newer server may send a value this SDK does not list yet: keep the
// known ones for completion, and let any string through.
type Open<T extends string> = T | (string & {});

interface Base {
  /** The server's message (or the SDK's, for codes it makes up). Not for people: use errorMessage. */
  message: string;
  /** The response path of the field that failed, when the server gave one. */
  path?: readonly (string | number)[];
}

/**
 * ErrorDetail is one error, typed by its code: the extensions that code
 * carries are typed with it. Narrow with `switch (e.code)`.
 */
export type ErrorDetail = Base &
  (
    | { code: 'BAD_USER_INPUT'; field?: Open<InputField> }
    | { code: 'EMAIL_TAKEN'; field?: Open<'email'> }
    | { code: 'PHONE_TAKEN'; field?: Open<'phone' | 'newPhone'> }
    | { code: 'INVALID_CREDENTIALS'; field?: Open<'currentPassword' | 'password'> }
    | { code: 'INVALID_OTP'; field?: Open<'code'>; attemptsLeft?: number }
    | {
        code: 'MFA_TOKEN_INVALID';
        /** Which step's token died, from the operation that failed (set by the SDK, not the server). */
        step?: StepKind;
      }
    | { code: 'RATE_LIMITED'; retryAfter?: number; reason?: Open<RateLimitReason> }
    | { code: 'OTP_DELIVERY_FAILED' }
    | { code: 'UNAUTHENTICATED' }
    | { code: 'FORBIDDEN' }
    | { code: 'REFRESH_TOKEN_INVALID' }
    | { code: 'SERVICE_UNAVAILABLE' }
    | { code: 'INTERNAL_SERVER_ERROR'; requestId?: string }
    | { code: 'GRAPHQL_PARSE_FAILED' }
    | { code: 'GRAPHQL_VALIDATION_FAILED' }
    | { code: 'COMPLEXITY_LIMIT_EXCEEDED' }
    | { code: 'BAD_REQUEST'; requestId?: string }
    | { code: 'UNSUPPORTED_MEDIA_TYPE' }
    | { code: 'REQUEST_TOO_LARGE' }
    /** Not from the server: no GraphQL answer came (offline, server down, timeout, not JSON). */
    | { code: 'NETWORK_ERROR'; status?: number }
    /** From the server, with a code this SDK does not know (a newer server); serverCode is it. */
    | { code: 'UNKNOWN'; serverCode?: string }
  );

/** ErrorCode is every code an ErrorDetail can have. */
export type ErrorCode = ErrorDetail['code'];

/** DetailOf is the ErrorDetail of one code. */
export type DetailOf<C extends ErrorCode> = Extract<ErrorDetail, { code: C }>;

type Sentence = string | ((d: ErrorDetail) => string);

const ourSide = 'Something went wrong on our side. Try again.';

// Every code, each with its sentence for people. This is the only list:
// errorCodes and the known-code check come from it, and the type checker
// holds it to ErrorCode, so a new code is one line here and one above.
const sentences: Record<ErrorCode, Sentence> = {
  BAD_USER_INPUT: (d) => (d.message ? sentence(d.message) : 'Check this value.'),
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead, or use another email.',
  PHONE_TAKEN: 'This phone number belongs to another account. Use another number.',
  INVALID_CREDENTIALS: (d) =>
    d.code === 'INVALID_CREDENTIALS' && d.field !== undefined ? 'The password is wrong.' : 'The email or password is wrong.',
  INVALID_OTP: (d) => {
    const left = d.code === 'INVALID_OTP' ? d.attemptsLeft : undefined;
    if (left === undefined) return 'That code is wrong.';
    if (left === 0) return 'That code is wrong, and there are no attempts left.';
    return `That code is wrong. You have ${plural(left, 'attempt')} left.`;
  },
  MFA_TOKEN_INVALID: (d) => {
    const step = d.code === 'MFA_TOKEN_INVALID' ? d.step : undefined;
    if (step === 'passwordReset') return 'This password reset has expired or was already used. Start again to get a new code.';
    if (step === 'phoneChange') return 'This phone number change has expired or was already used. Start again to get a new code.';
    return 'This sign-in has expired or was already used, so its code no longer works. Sign in again to get a new code.';
  },
  // The server's message names the limit and the wait ("We have sent too
  // many codes to this number. Try again in 57 minutes.").
  RATE_LIMITED: (d) => {
    if (d.message) return sentence(d.message);
    const after = d.code === 'RATE_LIMITED' ? d.retryAfter : undefined;
    return after === undefined ? 'Too many attempts. Wait a little, then try again.' : `Too many attempts. Try again in ${formatDuration(after)}.`;
  },
  OTP_DELIVERY_FAILED: 'We could not send the code to your phone. Try again in a moment.',
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  FORBIDDEN: 'Your account is not allowed to do this.',
  // refreshSession's answer for a session that is over (expired, revoked,
  // signed out, or its refresh token reused): nothing to retry.
  REFRESH_TOKEN_INVALID: 'Your session ended. Sign in again.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable. Try again in a moment.',
  INTERNAL_SERVER_ERROR: ourSide,
  // Refusals before GraphQL runs, and GraphQL's own: the client sent a
  // request the server would not take, which is our side too.
  GRAPHQL_PARSE_FAILED: ourSide,
  GRAPHQL_VALIDATION_FAILED: ourSide,
  COMPLEXITY_LIMIT_EXCEEDED: ourSide,
  BAD_REQUEST: ourSide,
  UNSUPPORTED_MEDIA_TYPE: ourSide,
  REQUEST_TOO_LARGE: ourSide,
  NETWORK_ERROR: 'We could not reach the server. Check your connection and try again.',
  UNKNOWN: ourSide,
};

/** errorCodes lists every ErrorCode. */
export const errorCodes = Object.keys(sentences) as ErrorCode[];

// The codes the SDK makes up; a server that sends one is not understood.
const clientOnly: readonly string[] = ['NETWORK_ERROR', 'UNKNOWN'];

/** serverErrorCodes lists the codes a server may send (errorCodes without NETWORK_ERROR and UNKNOWN). */
export const serverErrorCodes = errorCodes.filter((c) => !clientOnly.includes(c));

function isServerCode(code: string): code is ErrorCode {
  return Object.hasOwn(sentences, code) && !clientOnly.includes(code);
}

/**
 * TwostepError is what every SDK call rejects with when the server refused
 * (extensions.code) or could not be reached (NETWORK_ERROR). errors holds
 * every error of the answer (register sends one per invalid field), never
 * none; code and the extension getters are those of the first.
 */
export class TwostepError extends Error {
  override readonly name = 'TwostepError';
  /** Every error of the answer, in order; at least one. */
  readonly errors: readonly ErrorDetail[];
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined;
  /** The operation that failed (Login, Me, …), when known. */
  readonly operationName: string | undefined;

  constructor(errors: readonly ErrorDetail[], opts: { status?: number; operationName?: string; cause?: unknown } = {}) {
    const list = errors.length > 0 ? errors : [{ code: 'UNKNOWN', message: 'An error without details.' } as const];
    super(list[0]!.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.errors = list;
    this.status = opts.status;
    this.operationName = opts.operationName;
  }

  /** detail is the first error. */
  get detail(): ErrorDetail {
    return this.errors[0]!;
  }

  /** code is the first error's code. */
  get code(): ErrorCode {
    return this.detail.code;
  }

  /** field is the first error's extensions.field, if any. */
  get field(): string | undefined {
    return 'field' in this.detail ? this.detail.field : undefined;
  }

  /** attemptsLeft is INVALID_OTP's, if any error has it. */
  get attemptsLeft(): number | undefined {
    return this.find('INVALID_OTP')?.attemptsLeft;
  }

  /** retryAfter is RATE_LIMITED's wait in seconds, if any error has it. */
  get retryAfter(): number | undefined {
    return this.find('RATE_LIMITED')?.retryAfter;
  }

  /** reason is RATE_LIMITED's reason, if any error has it. */
  get reason(): string | undefined {
    return this.find('RATE_LIMITED')?.reason;
  }

  /** requestId is the id to find an INTERNAL_SERVER_ERROR in the server's log. */
  get requestId(): string | undefined {
    for (const e of this.errors) if ('requestId' in e && e.requestId !== undefined) return e.requestId;
    return undefined;
  }

  /** has reports whether any error has one of codes. */
  has(...codes: ErrorCode[]): boolean {
    return this.errors.some((e) => codes.includes(e.code));
  }

  /** find returns the first error with code, typed with that code's extensions. */
  find<C extends ErrorCode>(code: C): DetailOf<C> | undefined {
    return this.errors.find((e): e is DetailOf<C> => e.code === code);
  }
}

/** isTwostepError reports whether err is a TwostepError (also across bundles, by name). */
export function isTwostepError(err: unknown): err is TwostepError {
  return err instanceof TwostepError || (err instanceof Error && err.name === 'TwostepError' && 'errors' in err);
}

/**
 * toTwostepError returns err if it is a TwostepError, and otherwise a
 * NETWORK_ERROR whose cause is err (fetch's TypeError, an AbortError, …).
 */
export function toTwostepError(err: unknown): TwostepError {
  if (isTwostepError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TwostepError([{ code: 'NETWORK_ERROR', message: message || 'The request failed.' }], { cause: err });
}

/** GraphQLErrorJSON is an error as it arrives in a GraphQL response. */
export interface GraphQLErrorJSON {
  message?: unknown;
  path?: unknown;
  extensions?: unknown;
}

/**
 * parseError turns one error of a GraphQL response into an ErrorDetail:
 * a code the SDK does not know becomes UNKNOWN (with serverCode), and
 * extensions of the wrong type are dropped rather than trusted.
 */
export function parseError(e: GraphQLErrorJSON): ErrorDetail {
  const ext = (typeof e.extensions === 'object' && e.extensions !== null ? e.extensions : {}) as Record<string, unknown>;
  const raw = typeof ext.code === 'string' ? ext.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const d: Record<string, unknown> = { code: isServerCode(raw) ? raw : 'UNKNOWN', message };
  if (d.code === 'UNKNOWN' && raw !== '') d.serverCode = raw;
  if (Array.isArray(e.path) && e.path.every((p) => typeof p === 'string' || typeof p === 'number')) d.path = e.path;
  for (const [key, type] of [
    ['field', 'string'],
    ['attemptsLeft', 'number'],
    ['retryAfter', 'number'],
    ['reason', 'string'],
    ['requestId', 'string'],
  ] as const) {
    if (typeof ext[key] === type) d[key] = ext[key];
  }
  return d as unknown as ErrorDetail;
}

/**
 * errorMessage is the sentence to show a person for err: a TwostepError's
 * first error, or for anything else the network sentence.
 */
export function errorMessage(err: unknown): string {
  return messageFor(toTwostepError(err).detail);
}

/** messageFor is the sentence to show a person for one error. */
export function messageFor(d: ErrorDetail | { code: ErrorCode; message?: string }): string {
  const detail = { message: '', ...d } as ErrorDetail;
  const s = sentences[detail.code] ?? ourSide;
  return typeof s === 'string' ? s : s(detail);
}

// Codes that are about one input even when the server names no field.
const impliedField: Partial<Record<ErrorCode, string>> = { EMAIL_TAKEN: 'email', PHONE_TAKEN: 'phone', INVALID_OTP: 'code' };

/** FieldErrors is an error split for a form: a sentence per field, and the rest. */
export interface FieldErrors<F extends string> {
  /** The first sentence for each of the form's fields that has an error. */
  fields: Partial<Record<F, string>>;
  /** The first error that belongs to none of the form's fields, or null. */
  form: ErrorDetail | null;
  /** form's sentence, or null. */
  formMessage: string | null;
}

/**
 * fieldErrors puts each error that belongs to one of fields at that field
 * (extensions.field, or the field its code implies) and returns the first
 * of the rest as the form's error. err may be anything a call rejected with.
 */
export function fieldErrors<F extends string>(err: unknown, fields: readonly F[]): FieldErrors<F> {
  const out: FieldErrors<F> = { fields: {}, form: null, formMessage: null };
  for (const d of toTwostepError(err).errors) {
    const field = ('field' in d ? d.field : undefined) ?? impliedField[d.code];
    if (field !== undefined && (fields as readonly string[]).includes(field)) {
      out.fields[field as F] ??= messageFor(d);
    } else if (out.form === null) {
      out.form = d;
      out.formMessage = messageFor(d);
    }
  }
  return out;
}

/** formatDuration writes seconds the way a person would say them ("1 minute 30 seconds"). */
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
