// Every operation's request shape against ../../schema.graphqls: the
// documents validate, each client method sends its operation with
// variables the schema accepts, and a token only where the schema's @auth
// asks for one.
import { readFileSync } from 'node:fs';
import { Kind, getVariableValues, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { generate } from '../codegen/generate.mjs';
import type { TwostepClient } from '../src/client.js';
import { operations } from '../src/generated/operations.js';
import { ada, createFakeTwostep, newClient, signIn } from './helpers.js';
import { schema, type FakeTwostep } from './fakeTwostep.js';

// The README's list: every other operation needs Authorization: Bearer.
const anonymous = ['Register', 'Login', 'ResendOtp', 'VerifyOtp', 'RefreshSession', 'RequestPasswordReset', 'ResetPassword'];

function definition(document: string): OperationDefinitionNode {
  const def = parse(document).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!def) throw new Error('no operation');
  return def;
}

describe('generated documents', () => {
  it.each(Object.values(operations).map((op) => [op.name, op] as const))('%s validates against the schema', (_name, op) => {
    expect(validate(schema, parse(op.document)).map((e) => e.message)).toEqual([]);
    const def = definition(op.document);
    expect(def.name?.value).toBe(op.name);
    expect(def.operation).toBe(op.kind);
  });

  it.each(Object.values(operations).map((op) => [op.name, op] as const))('%s needs a token exactly when the schema says', (name, op) => {
    expect(op.requiresAuth).toBe(!anonymous.includes(name));
  });

  it('src/generated is what codegen writes from the schema today', () => {
    const files = generate() as Record<string, string>;
    for (const [name, text] of Object.entries(files)) {
      expect(readFileSync(new URL(`../src/generated/${name}`, import.meta.url), 'utf8'), name).toBe(text);
    }
  });
});

interface Case {
  method: string;
  operation: keyof typeof operations;
  call(c: TwostepClient, fake: FakeTwostep): Promise<unknown>;
}

// One case per method, in an order that works against one fake server.
const cases: Case[] = [
  { method: 'register', operation: 'Register', call: (c) => c.register({ email: 'bob@example.com', password: 'another good password', phone: '+14155550100' }) },
  { method: 'login', operation: 'Login', call: (c) => c.login({ email: ada.email, password: ada.password, channel: 'CALL' }) },
  {
    method: 'resendOtp',
    operation: 'ResendOtp',
    call: async (c) => c.resendOtp({ mfaToken: (await c.login({ email: ada.email, password: ada.password })).mfaToken, channel: 'WHATSAPP' }),
  },
  { method: 'verifyOtp', operation: 'VerifyOtp', call: (c, fake) => signIn(c, fake) },
  { method: 'refreshSession', operation: 'RefreshSession', call: (c) => c.refreshSession() },
  { method: 'me', operation: 'Me', call: (c) => c.me() },
  { method: 'sessions', operation: 'Sessions', call: (c) => c.sessions() },
  { method: 'securityEvents', operation: 'SecurityEvents', call: (c) => c.securityEvents({ first: 2, after: 'c0' }) },
  { method: 'revokeSession', operation: 'RevokeSession', call: (c) => c.revokeSession({ sessionId: 'sid-unknown' }) },
  { method: 'logout', operation: 'Logout', call: (c) => c.logout('OTHERS') },
  { method: 'changePassword', operation: 'ChangePassword', call: (c) => c.changePassword({ currentPassword: ada.password, newPassword: ada.password }) },
  { method: 'startPhoneChange', operation: 'StartPhoneChange', call: (c) => c.startPhoneChange({ newPhone: '+14155550199', password: ada.password }) },
  {
    method: 'confirmPhoneChange',
    operation: 'ConfirmPhoneChange',
    call: async (c, fake) => {
      const { changeToken } = await c.startPhoneChange({ newPhone: '+14155550198', password: ada.password });
      return c.confirmPhoneChange({ changeToken, code: fake.code('+14155550198') });
    },
  },
  { method: 'requestPasswordReset', operation: 'RequestPasswordReset', call: (c) => c.requestPasswordReset({ email: ada.email }) },
  {
    method: 'resetPassword',
    operation: 'ResetPassword',
    call: async (c, fake) => {
      const { resetToken } = await c.requestPasswordReset({ email: 'bob@example.com' });
      return c.resetPassword({ resetToken, code: fake.code('+14155550100'), newPassword: 'a new good password' });
    },
  },
  { method: 'deleteAccount', operation: 'DeleteAccount', call: (c) => c.deleteAccount({ password: ada.password }) },
];

describe('each method sends its operation as the schema wants it', () => {
  const fake = createFakeTwostep();
  fake.addUser();
  const client = newClient(fake);

  it.each(cases.map((c) => [c.method, c] as const))('%s', async (_method, c) => {
    const before = fake.requests.length;
    await c.call(client, fake);
    const sent = fake.requests.slice(before);
    const mine = sent.filter((r) => r.operationName === c.operation);
    expect(mine.length, `${c.method} sent ${c.operation}`).toBeGreaterThan(0);
    for (const r of sent) {
      const op = operations[r.operationName as keyof typeof operations];
      expect(r.query).toBe(op.document);
      expect(r.validationErrors).toEqual([]);
      const { errors } = getVariableValues(schema, definition(op.document).variableDefinitions ?? [], r.variables);
      expect(errors?.map((e) => e.message) ?? []).toEqual([]);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(r.headers.has('authorization'), `${r.operationName} has a token`).toBe(op.requiresAuth);
      if (op.requiresAuth) expect(r.headers.get('authorization')).toMatch(/^Bearer at-\d+$/);
    }
  });

  it('covers every operation', () => {
    expect(new Set(fake.operations())).toEqual(new Set(Object.keys(operations)));
    expect(new Set(cases.map((c) => c.operation))).toEqual(new Set(Object.keys(operations)));
  });

  it('sends the variables it was given, and only those', () => {
    const login = fake.requests.find((r) => r.operationName === 'Login');
    expect(login?.variables).toEqual({ input: { email: ada.email, password: ada.password, channel: 'CALL' } });
    const events = fake.requests.find((r) => r.operationName === 'SecurityEvents');
    expect(events?.variables).toEqual({ first: 2, after: 'c0' });
    const logout = fake.requests.find((r) => r.operationName === 'Logout');
    expect(logout?.variables).toEqual({ scope: 'OTHERS' });
  });
});
