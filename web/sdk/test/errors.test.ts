// Error parsing for every code, through the transport as a server would
// answer, and the sentences people see.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  TwostepError,
  errorCodes,
  errorMessage,
  fieldErrors,
  formatDuration,
  isTwostepError,
  messageFor,
  parseError,
  serverErrorCodes,
  type ErrorCode,
  type ErrorDetail,
} from '../src/errors.js';
import { operations } from '../src/generated/operations.js';
import { send } from '../src/transport.js';
import { errorReply, type Reply } from './fakeTwostep.js';
import { rejection } from './helpers.js';

const repo = new URL('../../../', import.meta.url);

/** answer is a transport whose server replies with body (or throws it). */
function reply(body: Reply | string | Error, status = 200) {
  const fetch: typeof globalThis.fetch = async () => {
    if (body instanceof Error) throw body;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
  return { url: 'http://test/graphql', fetch };
}

async function failure(body: Reply | string | Error, status = 200, op: keyof typeof operations = 'Login'): Promise<TwostepError> {
  try {
    await send(reply(body, status), operations[op] as never, {} as never);
  } catch (err) {
    if (err instanceof TwostepError) return err;
    throw err;
  }
  throw new Error('send resolved');
}

describe('the list of codes', () => {
  it("has every code the server's Go source defines", () => {
    const go = [
      readFileSync(new URL('auth/errors.go', repo), 'utf8'),
      readFileSync(new URL('internal/httpedge/errors.go', repo), 'utf8'),
      readFileSync(new URL('graph/guard.go', repo), 'utf8'),
      readFileSync(new URL('graph/errors.go', repo), 'utf8'),
    ].join('\n');
    const defined = new Set([...go.matchAll(/"([A-Z][A-Z_]{5,})"/g)].map((m) => m[1]!));
    // gqlgen's own codes, named in the README's table.
    for (const c of ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']) defined.add(c);
    for (const code of defined) expect(serverErrorCodes, code).toContain(code);
  });

  it("has every code of the README's table", () => {
    const readme = readFileSync(new URL('README.md', repo), 'utf8');
    const table = readme.slice(readme.indexOf('| `extensions.code` |'), readme.indexOf('How Twilio errors map'));
    const codes = [...table.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?(?:, `([A-Z_]+)`)?/gm)].flatMap((m) => m.slice(1).filter(Boolean));
    expect(codes.length).toBeGreaterThan(15);
    for (const code of codes) expect(serverErrorCodes, code).toContain(code);
  });
});

describe('parsing every code', () => {
  // Each code as the server sends it, and the detail the SDK makes of it.
  const cases: { name: string; ext: Record<string, unknown>; message?: string; want: Partial<ErrorDetail> & { code: ErrorCode } }[] = [
    { name: 'BAD_USER_INPUT', ext: { field: 'phone' }, message: 'Enter a phone number with its country code', want: { code: 'BAD_USER_INPUT', field: 'phone' } },
    { name: 'EMAIL_TAKEN', ext: { field: 'email' }, want: { code: 'EMAIL_TAKEN', field: 'email' } },
    { name: 'PHONE_TAKEN', ext: { field: 'newPhone' }, want: { code: 'PHONE_TAKEN', field: 'newPhone' } },
    { name: 'INVALID_CREDENTIALS', ext: {}, want: { code: 'INVALID_CREDENTIALS' } },
    { name: 'INVALID_CREDENTIALS with a field', ext: { field: 'currentPassword' }, want: { code: 'INVALID_CREDENTIALS', field: 'currentPassword' } },
    { name: 'INVALID_OTP', ext: { field: 'code', attemptsLeft: 3 }, want: { code: 'INVALID_OTP', field: 'code', attemptsLeft: 3 } },
    { name: 'MFA_TOKEN_INVALID', ext: {}, want: { code: 'MFA_TOKEN_INVALID' } },
    {
      name: 'RATE_LIMITED',
      ext: { retryAfter: 3420, reason: 'phone_per_hour' },
      message: 'We have sent too many codes to this number. Try again in 57 minutes.',
      want: { code: 'RATE_LIMITED', retryAfter: 3420, reason: 'phone_per_hour' },
    },
    { name: 'OTP_DELIVERY_FAILED', ext: {}, want: { code: 'OTP_DELIVERY_FAILED' } },
    { name: 'UNAUTHENTICATED', ext: {}, want: { code: 'UNAUTHENTICATED' } },
    { name: 'FORBIDDEN', ext: {}, want: { code: 'FORBIDDEN' } },
    { name: 'REFRESH_TOKEN_INVALID', ext: {}, want: { code: 'REFRESH_TOKEN_INVALID' } },
    { name: 'SERVICE_UNAVAILABLE', ext: {}, want: { code: 'SERVICE_UNAVAILABLE' } },
    { name: 'INTERNAL_SERVER_ERROR', ext: { requestId: 'req-1' }, want: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' } },
    { name: 'GRAPHQL_PARSE_FAILED', ext: {}, want: { code: 'GRAPHQL_PARSE_FAILED' } },
    { name: 'GRAPHQL_VALIDATION_FAILED', ext: {}, want: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    { name: 'COMPLEXITY_LIMIT_EXCEEDED', ext: {}, want: { code: 'COMPLEXITY_LIMIT_EXCEEDED' } },
    { name: 'BAD_REQUEST', ext: {}, want: { code: 'BAD_REQUEST' } },
    { name: 'UNSUPPORTED_MEDIA_TYPE', ext: {}, want: { code: 'UNSUPPORTED_MEDIA_TYPE' } },
    { name: 'REQUEST_TOO_LARGE', ext: {}, want: { code: 'REQUEST_TOO_LARGE' } },
    { name: 'a code this SDK does not know', ext: { code: 'TOO_MUCH_COFFEE' }, want: { code: 'UNKNOWN', serverCode: 'TOO_MUCH_COFFEE' } },
    { name: 'no code at all', ext: { code: undefined }, want: { code: 'UNKNOWN' } },
    { name: 'extensions of the wrong type', ext: { code: 'INVALID_OTP', attemptsLeft: 'three', field: 7 }, want: { code: 'INVALID_OTP' } },
  ];

  it('covers every server code', () => {
    const covered = new Set(cases.map((c) => c.want.code));
    for (const code of serverErrorCodes) expect(covered, code).toContain(code);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const code = c.name.split(' ')[0]!;
    const message = c.message ?? 'from the server';
    const err = await failure({ data: null, errors: [{ message, path: ['login'], extensions: { code, ...c.ext } }] });
    expect(isTwostepError(err)).toBe(true);
    expect(err.code).toBe(c.want.code);
    expect(err.errors).toHaveLength(1);
    expect(err.detail).toEqual({ message, path: ['login'], ...c.want });
    expect(err.operationName).toBe('Login');
    expect(err.status).toBe(200);
    expect(errorMessage(err)).toMatch(/^[A-Z].*[.]$/);
  });

  it('gives the extensions of the first error, and finds the others', async () => {
    const err = await failure({
      data: null,
      errors: [
        { message: 'Enter an email address', extensions: { code: 'BAD_USER_INPUT', field: 'email' } },
        { message: 'Use at least 8 characters', extensions: { code: 'BAD_USER_INPUT', field: 'password' } },
        { message: 'Too many', extensions: { code: 'RATE_LIMITED', retryAfter: 30, reason: 'ip' } },
      ],
    });
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.field).toBe('email');
    expect(err.errors.map((e) => e.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'RATE_LIMITED']);
    expect(err.has('RATE_LIMITED')).toBe(true);
    expect(err.has('INVALID_OTP', 'EMAIL_TAKEN')).toBe(false);
    expect(err.retryAfter).toBe(30);
    expect(err.reason).toBe('ip');
    const limited = err.find('RATE_LIMITED');
    // The type follows the code: retryAfter is a number here, no cast.
    const wait: number | undefined = limited?.retryAfter;
    expect(wait).toBe(30);
    expect(err.find('INVALID_OTP')).toBeUndefined();
  });

  it('says which step a dead step token belongs to', async () => {
    const steps = { VerifyOtp: 'login', ResendOtp: 'login', ResetPassword: 'passwordReset', ConfirmPhoneChange: 'phoneChange' } as const;
    for (const [op, step] of Object.entries(steps)) {
      const err = await failure(errorReply('MFA_TOKEN_INVALID'), 200, op as keyof typeof operations);
      expect(err.find('MFA_TOKEN_INVALID')?.step).toBe(step);
    }
    expect(errorMessage(await failure(errorReply('MFA_TOKEN_INVALID'), 200, 'ResetPassword'))).toMatch(/password reset has expired/);
    expect(errorMessage(await failure(errorReply('MFA_TOKEN_INVALID'), 200, 'VerifyOtp'))).toMatch(/sign-in has expired/);
  });
});

describe('answers that are not a GraphQL success', () => {
  it.each([
    { name: 'fetch fails (offline)', body: new TypeError('Failed to fetch'), status: 200, code: 'NETWORK_ERROR' },
    { name: 'a bare 503 from a proxy', body: '<html>down</html>', status: 503, code: 'SERVICE_UNAVAILABLE' },
    { name: 'a bare 502', body: 'bad gateway', status: 502, code: 'INTERNAL_SERVER_ERROR' },
    { name: 'a bare 404', body: 'not found', status: 404, code: 'NETWORK_ERROR' },
    { name: 'a 200 that is not JSON', body: '<html>', status: 200, code: 'NETWORK_ERROR' },
    { name: 'a 200 without data or errors', body: '{}', status: 200, code: 'NETWORK_ERROR' },
    { name: 'a 429 with GraphQL errors', body: JSON.stringify(errorReply('RATE_LIMITED', { retryAfter: 5 })), status: 429, code: 'RATE_LIMITED' },
    { name: 'a 415 from the edge', body: JSON.stringify(errorReply('UNSUPPORTED_MEDIA_TYPE')), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a 413 from the edge', body: JSON.stringify(errorReply('REQUEST_TOO_LARGE')), status: 413, code: 'REQUEST_TOO_LARGE' },
    { name: 'a 400 from the edge', body: JSON.stringify(errorReply('BAD_REQUEST', { requestId: 'r-9' })), status: 400, code: 'BAD_REQUEST' },
  ])('$name is $code', async ({ body, status, code }) => {
    const err = await failure(body as Reply | string | Error, status);
    expect(err.code).toBe(code);
    expect(err.errors.length).toBeGreaterThan(0);
  });

  it('keeps the cause of a network failure', async () => {
    const cause = new TypeError('Failed to fetch');
    const err = await failure(cause);
    expect(err.cause).toBe(cause);
    expect(errorMessage(err)).toBe('We could not reach the server. Check your connection and try again.');
  });

  it('times out as NETWORK_ERROR', async () => {
    const hang: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const err = await rejection(send({ url: 'x', fetch: hang }, operations.Me, {}, { timeoutMs: 10 }));
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toBe('The server did not answer in time.');
  });

  it("stops at the caller's signal, even with a fetch that ignores it", async () => {
    const deaf: typeof fetch = () => new Promise(() => {});
    const ctl = new AbortController();
    const p = rejection(send({ url: 'x', fetch: deaf }, operations.Me, {}, { signal: ctl.signal, timeoutMs: 60_000 }));
    ctl.abort(new DOMException('navigated away', 'AbortError'));
    const err = await p;
    expect(err.code).toBe('NETWORK_ERROR');
    expect((err.cause as DOMException).name).toBe('AbortError');
  });
});

describe('sentences', () => {
  it.each([
    { d: { code: 'BAD_USER_INPUT', message: 'enter a phone number with its country code' }, want: 'Enter a phone number with its country code.' },
    { d: { code: 'BAD_USER_INPUT', message: '' }, want: 'Check this value.' },
    { d: { code: 'EMAIL_TAKEN' }, want: 'An account with this email already exists. Sign in instead, or use another email.' },
    { d: { code: 'INVALID_CREDENTIALS' }, want: 'The email or password is wrong.' },
    { d: { code: 'INVALID_CREDENTIALS', field: 'currentPassword' }, want: 'The password is wrong.' },
    { d: { code: 'INVALID_OTP', attemptsLeft: 4 }, want: 'That code is wrong. You have 4 attempts left.' },
    { d: { code: 'INVALID_OTP', attemptsLeft: 1 }, want: 'That code is wrong. You have 1 attempt left.' },
    { d: { code: 'INVALID_OTP', attemptsLeft: 0 }, want: 'That code is wrong, and there are no attempts left.' },
    { d: { code: 'INVALID_OTP' }, want: 'That code is wrong.' },
    {
      d: { code: 'RATE_LIMITED', retryAfter: 3420, message: 'We have sent too many codes to this number. Try again in 57 minutes.' },
      want: 'We have sent too many codes to this number. Try again in 57 minutes.',
    },
    { d: { code: 'RATE_LIMITED', retryAfter: 90 }, want: 'Too many attempts. Try again in 1 minute 30 seconds.' },
    { d: { code: 'RATE_LIMITED' }, want: 'Too many attempts. Wait a little, then try again.' },
    { d: { code: 'REFRESH_TOKEN_INVALID', message: 'This session has ended. Please sign in again.' }, want: 'Your session ended. Sign in again.' },
    { d: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error.' }, want: 'Something went wrong on our side. Try again.' },
    { d: { code: 'UNKNOWN', serverCode: 'NEW' }, want: 'Something went wrong on our side. Try again.' },
  ] as { d: ErrorDetail; want: string }[])('$d.code $d.message $d.attemptsLeft $d.retryAfter', ({ d, want }) => {
    expect(messageFor(d)).toBe(want);
  });

  it('has a sentence for every code', () => {
    for (const code of errorCodes) expect(messageFor({ code }), code).toMatch(/^[A-Z].+[.]$/);
  });

  it('calls anything that is not a TwostepError a network error', () => {
    expect(errorMessage(new Error('boom'))).toBe(messageFor({ code: 'NETWORK_ERROR' }));
  });

  it.each([
    [1, '1 second'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [90, '1 minute 30 seconds'],
    [3600, '1 hour'],
    [3720, '1 hour 2 minutes'],
    [0.2, '1 second'],
  ])('formatDuration(%s) is %s', (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
});

describe('fieldErrors', () => {
  const err = new TwostepError([
    parseError({ message: 'enter an email address', extensions: { code: 'BAD_USER_INPUT', field: 'email' } }),
    parseError({ message: 'too short', extensions: { code: 'BAD_USER_INPUT', field: 'password' } }),
    parseError({ message: 'x', extensions: { code: 'PHONE_TAKEN' } }),
    parseError({ message: 'x', extensions: { code: 'SERVICE_UNAVAILABLE' } }),
    parseError({ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
  ]);

  it("puts each error at its form's field, and the first other one on the form", () => {
    const got = fieldErrors(err, ['email', 'password', 'phone'] as const);
    expect(got.fields).toEqual({ email: 'Enter an email address.', password: 'Too short.', phone: messageFor({ code: 'PHONE_TAKEN' }) });
    expect(got.form?.code).toBe('SERVICE_UNAVAILABLE');
    expect(got.formMessage).toBe('The service is briefly unavailable. Try again in a moment.');
  });

  it('puts errors of fields the form does not have on the form', () => {
    const got = fieldErrors(err, ['password'] as const);
    expect(got.fields).toEqual({ password: 'Too short.' });
    expect(got.form?.code).toBe('BAD_USER_INPUT');
    expect(got.formMessage).toBe('Enter an email address.');
  });

  it('takes a network failure as a form error', () => {
    expect(fieldErrors(new TypeError('offline'), ['code'])).toEqual({
      fields: {},
      form: expect.objectContaining({ code: 'NETWORK_ERROR' }),
      formMessage: messageFor({ code: 'NETWORK_ERROR' }),
    });
  });
});
