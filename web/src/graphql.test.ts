import { readFileSync } from 'node:fs';
import { GraphQLEnumType, buildSchema, getOperationAST, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  CHANGE_PASSWORD,
  CONFIRM_PHONE_CHANGE,
  DELETE_ACCOUNT,
  LOGIN,
  LOGOUT,
  ME,
  REFRESH_SESSION,
  REGISTER,
  REQUEST_PASSWORD_RESET,
  RESEND_OTP,
  RESET_PASSWORD,
  REVOKE_SESSION,
  SESSIONS,
  START_PHONE_CHANGE,
  VERIFY_OTP,
  anonymousOperations,
  otpChannels,
} from './graphql';

// The schema is the contract; the app's hand-written types mirror these
// documents, so a renamed or removed field must fail here, not in a browser.
const schema = buildSchema(readFileSync(new URL('../../schema.graphqls', import.meta.url), 'utf8'));

const operations: [string, DocumentNode][] = [
  ['Register', REGISTER],
  ['Login', LOGIN],
  ['VerifyOtp', VERIFY_OTP],
  ['ResendOtp', RESEND_OTP],
  ['RefreshSession', REFRESH_SESSION],
  ['Logout', LOGOUT],
  ['RevokeSession', REVOKE_SESSION],
  ['Me', ME],
  ['Sessions', SESSIONS],
  ['RequestPasswordReset', REQUEST_PASSWORD_RESET],
  ['ResetPassword', RESET_PASSWORD],
  ['ChangePassword', CHANGE_PASSWORD],
  ['StartPhoneChange', START_PHONE_CHANGE],
  ['ConfirmPhoneChange', CONFIRM_PHONE_CHANGE],
  ['DeleteAccount', DELETE_ACCOUNT],
];

describe('operations match schema.graphqls', () => {
  it.each(operations)('%s', (name, doc) => {
    expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
    expect(getOperationAST(doc)?.name?.value).toBe(name);
  });
});

describe('anonymousOperations', () => {
  // An operation goes without a token exactly when none of its root fields
  // is @auth: a new @auth field cannot be sent bare by mistake, and a public
  // one (register, login) never waits for a refresh.
  it.each(operations)('%s', (name, doc) => {
    const op = getOperationAST(doc);
    const root = op?.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
    const needsAuth = (op?.selectionSet.selections ?? []).some(
      (sel) => sel.kind === 'Field' && root?.getFields()[sel.name.value]?.astNode?.directives?.some((d) => d.name.value === 'auth'),
    );
    expect(anonymousOperations.has(name)).toBe(!needsAuth);
  });
});

describe('otpChannels', () => {
  // OtpChannel is typed by hand too: a channel added to the schema is one
  // the app must learn to describe ("We called …").
  it('are the schema\'s OtpChannel values', () => {
    const type = schema.getType('OtpChannel');
    expect(type).toBeInstanceOf(GraphQLEnumType);
    expect((type as GraphQLEnumType).getValues().map((v) => v.name)).toEqual([...otpChannels]);
  });
});
