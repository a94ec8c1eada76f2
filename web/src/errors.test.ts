import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import type { GraphQLFormattedError } from 'graphql';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes, formatDuration, messageFor, problemsOf, splitByField } from './errors';

function graphQLErrors(...errors: GraphQLFormattedError[]) {
  return new CombinedGraphQLErrors({ data: null, errors });
}

function serverError(status: number, bodyText: string) {
  return new ServerError('Response not successful', {
    response: new Response(bodyText, { status }),
    bodyText,
  });
}

describe('problemsOf', () => {
  it.each([
    {
      name: 'bad input keeps the field and the server sentence',
      error: graphQLErrors({ message: 'phone must be in E.164 form', extensions: { code: 'BAD_USER_INPUT', field: 'phone' } }),
      want: [{ code: 'BAD_USER_INPUT', field: 'phone', message: 'Phone must be in E.164 form.' }],
    },
    {
      name: 'invalid otp counts attempts',
      error: graphQLErrors({ message: 'auth: invalid otp', extensions: { code: 'INVALID_OTP', attemptsLeft: 1 } }),
      want: [{ code: 'INVALID_OTP', attemptsLeft: 1, message: 'That code is wrong. You have 1 attempt left.' }],
    },
    {
      name: 'rate limited says how long to wait',
      error: graphQLErrors({ message: 'x', extensions: { code: 'RATE_LIMITED', retryAfter: 90 } }),
      want: [{ code: 'RATE_LIMITED', retryAfter: 90, message: 'Too many attempts. Try again in 1 minute 30 seconds.' }],
    },
    {
      name: 'developer messages are not shown',
      error: graphQLErrors({ message: 'auth: invalid credentials', extensions: { code: 'INVALID_CREDENTIALS' } }),
      want: [{ code: 'INVALID_CREDENTIALS', message: 'The email or password is wrong.' }],
    },
    {
      name: 'a password asked again is wrong at its field',
      error: graphQLErrors({ message: 'The password is incorrect.', extensions: { code: 'INVALID_CREDENTIALS', field: 'currentPassword' } }),
      want: [{ code: 'INVALID_CREDENTIALS', field: 'currentPassword', message: 'That password is wrong.' }],
    },
    {
      name: 'a database outage is not an error on our side',
      error: graphQLErrors({ message: 'x', extensions: { code: 'SERVICE_UNAVAILABLE' } }),
      want: [{ code: 'SERVICE_UNAVAILABLE', message: 'The service is briefly unavailable. Try again in a moment.' }],
    },
    {
      name: 'an unknown code still gets a sentence',
      error: graphQLErrors({ message: 'x', extensions: { code: 'SOMETHING_NEW' } }),
      want: [{ code: 'UNKNOWN', message: 'Something went wrong on our side. Try again.' }],
    },
    {
      name: 'a code only this app makes up is unknown from the server',
      error: graphQLErrors({ message: 'x', extensions: { code: 'NETWORK_ERROR' } }),
      want: [{ code: 'UNKNOWN', message: 'Something went wrong on our side. Try again.' }],
    },
    {
      name: 'an inherited property name is not a code',
      error: graphQLErrors({ message: 'x', extensions: { code: 'toString' } }),
      want: [{ code: 'UNKNOWN', message: 'Something went wrong on our side. Try again.' }],
    },
    {
      name: 'an error without extensions',
      error: graphQLErrors({ message: 'x' }),
      want: [{ code: 'UNKNOWN', message: 'Something went wrong on our side. Try again.' }],
    },
    {
      name: 'a failed fetch is a network error',
      error: new TypeError('Failed to fetch'),
      want: [{ code: 'NETWORK_ERROR', message: 'We could not reach the server. Check your connection and try again.' }],
    },
    {
      name: 'GraphQL errors in a non-2xx answer are still read',
      error: serverError(429, '{"errors":[{"message":"x","extensions":{"code":"RATE_LIMITED","retryAfter":5}}]}'),
      want: [{ code: 'RATE_LIMITED', retryAfter: 5, message: 'Too many attempts. Try again in 5 seconds.' }],
    },
    {
      name: 'a 502 page from a proxy',
      error: serverError(502, '<html>Bad Gateway</html>'),
      want: [{ code: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong on our side. Try again.' }],
    },
    {
      name: 'a 503 page from a proxy',
      error: serverError(503, '<html>Service Unavailable</html>'),
      want: [{ code: 'SERVICE_UNAVAILABLE', message: 'The service is briefly unavailable. Try again in a moment.' }],
    },
    {
      name: 'a 503 with GraphQL errors keeps their code',
      error: serverError(503, '{"errors":[{"message":"x","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}'),
      want: [{ code: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong on our side. Try again.' }],
    },
  ])('$name', ({ error, want }) => {
    expect(problemsOf(error)).toEqual(want);
  });
});

describe('codes', () => {
  // The server's extensions.code values: auth's, the HTTP refusals in front
  // of GraphQL, and gqlgen's own.
  it.each([
    'BAD_USER_INPUT',
    'EMAIL_TAKEN',
    'PHONE_TAKEN',
    'INVALID_CREDENTIALS',
    'INVALID_OTP',
    'MFA_TOKEN_INVALID',
    'RATE_LIMITED',
    'OTP_DELIVERY_FAILED',
    'UNAUTHENTICATED',
    'REFRESH_TOKEN_INVALID',
    'SERVICE_UNAVAILABLE',
    'INTERNAL_SERVER_ERROR',
    'BAD_REQUEST',
    'UNSUPPORTED_MEDIA_TYPE',
    'REQUEST_TOO_LARGE',
    'GRAPHQL_PARSE_FAILED',
    'GRAPHQL_VALIDATION_FAILED',
    'COMPLEXITY_LIMIT_EXCEEDED',
  ])('the server code %s is known', (code) => {
    expect(problemsOf(graphQLErrors({ message: 'x', extensions: { code } }))[0]?.code).toBe(code);
  });

  it('knows every code in the server\'s auth.Code list', () => {
    const source = readFileSync(new URL('../../auth/errors.go', import.meta.url), 'utf8');
    const codes = [...source.matchAll(/^\s*Code\w+\s+Code\s*=\s*"([A-Z_]+)"/gm)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThanOrEqual(10);
    expect(codes.filter((c) => !(errorCodes as string[]).includes(c ?? ''))).toEqual([]);
  });

  it.each(errorCodes)('%s has a sentence', (code) => {
    expect(messageFor({ code }).trim()).not.toBe('');
    expect(messageFor({ code, attemptsLeft: 2, retryAfter: 5 }).trim()).not.toBe('');
  });

  it('SERVICE_UNAVAILABLE has its own sentence', () => {
    expect(messageFor({ code: 'SERVICE_UNAVAILABLE' })).toBe('The service is briefly unavailable. Try again in a moment.');
    expect(messageFor({ code: 'SERVICE_UNAVAILABLE' })).not.toBe(messageFor({ code: 'INTERNAL_SERVER_ERROR' }));
  });
});

describe('splitByField', () => {
  it('puts field problems at their fields and EMAIL_TAKEN at email', () => {
    const problems = problemsOf(
      graphQLErrors(
        { message: 'password is too common', extensions: { code: 'BAD_USER_INPUT', field: 'password' } },
        { message: 'x', extensions: { code: 'EMAIL_TAKEN' } },
      ),
    );
    const got = splitByField(problems, ['email', 'password', 'phone']);
    expect(got.fieldErrors).toEqual({
      password: 'Password is too common.',
      email: 'An account with this email already exists. Sign in instead, or use another email.',
    });
    expect(got.formProblem).toBeNull();
  });

  it('puts PHONE_TAKEN at phone', () => {
    const problems = problemsOf(graphQLErrors({ message: 'x', extensions: { code: 'PHONE_TAKEN', field: 'phone' } }));
    const got = splitByField(problems, ['email', 'password', 'phone']);
    expect(got.fieldErrors).toEqual({ phone: 'This phone number belongs to another account. Use another number.' });
    expect(got.formProblem).toBeNull();
  });

  it('puts INVALID_CREDENTIALS at the password field it names', () => {
    const problems = problemsOf(graphQLErrors({ message: 'x', extensions: { code: 'INVALID_CREDENTIALS', field: 'password' } }));
    const got = splitByField(problems, ['newPhone', 'password']);
    expect(got.fieldErrors).toEqual({ password: 'That password is wrong.' });
    expect(got.formProblem).toBeNull();
  });

  it('leaves a field the form does not have to the form', () => {
    const problems = problemsOf(graphQLErrors({ message: 'bad token', extensions: { code: 'BAD_USER_INPUT', field: 'mfaToken' } }));
    const got = splitByField(problems, ['code']);
    expect(got.fieldErrors).toEqual({});
    expect(got.formProblem?.field).toBe('mfaToken');
  });
});

describe('formatDuration', () => {
  it.each([
    [0.2, '1 second'],
    [1, '1 second'],
    [45, '45 seconds'],
    [60, '1 minute'],
    [61, '1 minute 1 second'],
    [600, '10 minutes'],
    [3600, '1 hour'],
    [5400, '1 hour 30 minutes'],
  ])('formatDuration(%d) = %s', (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
});
