// A fake twostep server for the tests: a fetch that executes each request
// against ../../schema.graphqls with graphql-js, so every request the SDK
// sends is parsed, validated and its variables coerced as the real server
// would, and the rules behind it (codes, attempts, sessions, rotating
// refresh tokens with a reuse interval, @auth) behave like twostep's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError, buildSchema, graphql, parse, validate, type GraphQLSchema } from 'graphql';

// A path, not a URL: under happy-dom, URL is the DOM's, which node:fs refuses.
export const schemaSDL = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schema.graphqls'), 'utf8');
export const schema: GraphQLSchema = buildSchema(schemaSDL);

/** A GraphQL response body, as the server would send it. */
export interface Reply {
  data?: unknown;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** Override answers one request instead of the fake: a body (status 200), a Response, or a thrown error (a network failure). */
export type Override = Reply | Response | Error | ((req: Received) => Reply | Response | Promise<Reply | Response>);

export interface Received {
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
  headers: Headers;
  /** graphql's validation errors for query against the schema; empty for a good request. */
  validationErrors: string[];
}

interface User {
  id: string;
  email: string;
  password: string;
  phone: string;
  phoneVerified: boolean;
  createdAt: string;
  roles: string[];
}

interface Challenge {
  purpose: 'login' | 'reset' | 'phone';
  userId: string | null;
  phone: string;
  code: string;
  attemptsLeft: number;
  expiresAt: number;
  channel: string;
}

interface Session {
  id: string;
  userId: string;
  counter: number;
  rotatedAt: number;
  createdAt: number;
  lastUsedAt: number;
  userAgent: string | null;
  revoked: boolean;
}

export function gqlError(code: string, extensions: Record<string, unknown> = {}, message = code.toLowerCase()): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** errorReply is a response body with one error, as twostep sends it. */
export function errorReply(code: string, extensions: Record<string, unknown> = {}, message = code.toLowerCase()): Reply {
  return { data: null, errors: [{ message, extensions: { code, ...extensions } }] };
}

export interface FakeOptions {
  /** Access token lifetime in seconds; default 900. */
  accessTtl?: number;
  /** How long the previous refresh token is still answered; default 10 s. */
  reuseMs?: number;
  now?: () => number;
  /** How long each answer takes, in ms of (fake) timers; default 0 (a microtask). */
  latencyMs?: number;
}

export type FakeTwostep = ReturnType<typeof createFakeTwostep>;

/** createFakeTwostep returns a fake server; its fetch is what the client under test gets. */
export function createFakeTwostep({ accessTtl = 900, reuseMs = 10_000, now = Date.now, latencyMs = 0 }: FakeOptions = {}) {
  const users = new Map<string, User>();
  const challenges = new Map<string, Challenge>();
  const sessions = new Map<string, Session>();
  const accessTokens = new Map<string, { sid: string; userId: string; expiresAt: number }>();
  const lastCode = new Map<string, string>();
  const requests: Received[] = [];
  const overrides = new Map<string, Override[]>();
  let seq = 0;
  const next = (prefix: string) => `${prefix}-${++seq}`;
  const iso = (ms: number) => new Date(ms).toISOString();

  function publicUser(u: User) {
    return { id: u.id, email: u.email, phone: u.phone, phoneVerified: u.phoneVerified, createdAt: u.createdAt, roles: u.roles };
  }

  function challenge(purpose: Challenge['purpose'], userId: string | null, phone: string, channel = 'SMS') {
    const token = next(purpose === 'login' ? 'mfa' : purpose === 'reset' ? 'reset' : 'change');
    const code = String(100000 + seq).slice(-6);
    challenges.set(token, { purpose, userId, phone, code, attemptsLeft: 5, expiresAt: now() + 600_000, channel });
    lastCode.set(phone, code);
    return { token, expiresAt: iso(now() + 600_000) };
  }

  // spend checks a step token and its code, as twostep does: a dead token
  // is MFA_TOKEN_INVALID, a wrong code INVALID_OTP with the attempts left.
  function spend(token: string, purpose: Challenge['purpose'], code: string): Challenge {
    const c = challenges.get(token);
    if (!c || c.purpose !== purpose || c.expiresAt <= now() || c.attemptsLeft <= 0) throw gqlError('MFA_TOKEN_INVALID');
    if (!/^\d{4,10}$/.test(code)) throw gqlError('BAD_USER_INPUT', { field: 'code' }, 'The code is the digits from the text message');
    if (code !== c.code) {
      c.attemptsLeft--;
      throw gqlError('INVALID_OTP', { field: 'code', attemptsLeft: c.attemptsLeft });
    }
    challenges.delete(token);
    return c;
  }

  function startSession(user: User, userAgent: string | null) {
    const s: Session = { id: next('sid'), userId: user.id, counter: 1, rotatedAt: 0, createdAt: now(), lastUsedAt: now(), userAgent, revoked: false };
    sessions.set(s.id, s);
    return authPayload(s, user);
  }

  function authPayload(s: Session, user: User) {
    const accessToken = next('at');
    accessTokens.set(accessToken, { sid: s.id, userId: user.id, expiresAt: now() + accessTtl * 1000 });
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: accessTtl,
      refreshToken: `${s.id}.${s.counter}`,
      refreshExpiresAt: iso(now() + 14 * 86_400_000),
      user: publicUser(user),
    };
  }

  function userById(id: string) {
    for (const u of users.values()) if (u.id === id) return u;
    return undefined;
  }

  // principal is @auth: a live access token of a live session.
  function principal(ctx: Ctx): { user: User; session: Session } {
    const t = ctx.token ? accessTokens.get(ctx.token) : undefined;
    const session = t && sessions.get(t.sid);
    const user = t && userById(t.userId);
    if (!t || t.expiresAt <= now() || !session || session.revoked || !user) throw gqlError('UNAUTHENTICATED', {}, 'You must be signed in.');
    return { user, session };
  }

  function checkPassword(user: User, password: string, field: string) {
    if (user.password !== password) throw gqlError('INVALID_CREDENTIALS', { field });
  }

  interface Ctx {
    token: string | null;
    userAgent: string | null;
  }
  type Args = { input: Record<string, string> } & Record<string, unknown>;

  const root: Record<string, (args: Args, ctx: Ctx) => unknown> = {
    register({ input }) {
      if (!input.email!.includes('@')) throw gqlError('BAD_USER_INPUT', { field: 'email' }, 'Enter an email address like name@example.com');
      if (users.has(input.email!)) throw gqlError('EMAIL_TAKEN', { field: 'email' });
      const user: User = {
        id: next('user'),
        email: input.email!,
        password: input.password!,
        phone: input.phone!,
        phoneVerified: false,
        createdAt: iso(now()),
        roles: [],
      };
      users.set(user.email, user);
      return { user: publicUser(user) };
    },
    login({ input }) {
      const user = users.get(input.email!);
      if (!user || user.password !== input.password) throw gqlError('INVALID_CREDENTIALS', {}, 'Email or password is incorrect.');
      const channel = input.channel ?? 'SMS';
      const c = challenge('login', user.id, user.phone, channel);
      return { mfaToken: c.token, channel, sentTo: mask(user.phone), expiresAt: c.expiresAt, resendAfter: 30 };
    },
    resendOtp({ input }) {
      const c = challenges.get(input.mfaToken!);
      if (!c || c.purpose !== 'login') throw gqlError('MFA_TOKEN_INVALID');
      c.channel = input.channel ?? 'SMS';
      return { mfaToken: input.mfaToken, channel: c.channel, sentTo: mask(c.phone), expiresAt: iso(c.expiresAt), resendAfter: 30 };
    },
    verifyOtp({ input }, ctx) {
      const c = spend(input.mfaToken!, 'login', input.code!);
      const user = userById(c.userId!)!;
      user.phoneVerified = true;
      return startSession(user, ctx.userAgent);
    },
    refreshSession({ input }) {
      const [sid, n] = input.refreshToken!.split('.');
      const s = sessions.get(sid ?? '');
      const counter = Number(n);
      if (!s || s.revoked) throw gqlError('REFRESH_TOKEN_INVALID');
      const user = userById(s.userId);
      if (!user) throw gqlError('REFRESH_TOKEN_INVALID');
      if (counter === s.counter) {
        s.counter++;
        s.rotatedAt = now();
        s.lastUsedAt = now();
        return authPayload(s, user);
      }
      if (counter === s.counter - 1 && now() - s.rotatedAt <= reuseMs) return authPayload(s, user);
      // Reuse of an older token: the session is taken for stolen.
      s.revoked = true;
      throw gqlError('REFRESH_TOKEN_INVALID');
    },
    logout({ scope }, ctx) {
      const { user, session } = principal(ctx);
      let n = 0;
      for (const s of sessions.values()) {
        if (s.userId !== user.id || s.revoked) continue;
        const current = s.id === session.id;
        if (scope === 'ALL' || (scope === 'OTHERS' && !current) || ((scope ?? 'CURRENT') === 'CURRENT' && current)) {
          s.revoked = true;
          n++;
        }
      }
      return { revokedSessions: n };
    },
    revokeSession({ input }, ctx) {
      const { user } = principal(ctx);
      const s = sessions.get(input.sessionId!);
      if (!s || s.userId !== user.id || s.revoked) return { revokedSessions: 0 };
      s.revoked = true;
      return { revokedSessions: 1 };
    },
    me(_args, ctx) {
      return publicUser(principal(ctx).user);
    },
    sessions(_args, ctx) {
      const { user, session } = principal(ctx);
      return [...sessions.values()]
        .filter((s) => s.userId === user.id && !s.revoked)
        .reverse()
        .map((s) => ({
          id: s.id,
          createdAt: iso(s.createdAt),
          lastUsedAt: iso(s.lastUsedAt),
          expiresAt: iso(s.createdAt + 30 * 86_400_000),
          userAgent: s.userAgent,
          ipAddress: '127.0.0.1',
          current: s.id === session.id,
        }));
    },
    securityEvents({ first, after }, ctx) {
      const { user } = principal(ctx);
      const all = Array.from({ length: 3 }, (_, i) => ({
        id: `ev-${i}`,
        at: iso(now() - i * 1000),
        type: i === 0 ? 'SIGN_IN_COMPLETED' : 'CODE_SENT',
        userId: user.id,
        ipAddress: '127.0.0.1',
        userAgent: null,
        detail: null,
      }));
      const start = after ? Number(String(after).slice(1)) + 1 : 0;
      const page = all.slice(start, start + Number(first ?? 20));
      return {
        edges: page.map((node, i) => ({ cursor: `c${start + i}`, node })),
        pageInfo: { hasNextPage: start + page.length < all.length, endCursor: page.length ? `c${start + page.length - 1}` : null },
      };
    },
    requestPasswordReset({ input }) {
      const user = users.get(input.email!);
      const c = challenge('reset', user?.id ?? null, user?.phone ?? '+10000000000');
      return { resetToken: c.token, expiresAt: c.expiresAt };
    },
    resetPassword({ input }) {
      const c = spend(input.resetToken!, 'reset', input.code!);
      const user = c.userId ? userById(c.userId) : undefined;
      if (!user) throw gqlError('MFA_TOKEN_INVALID');
      user.password = input.newPassword!;
      for (const s of sessions.values()) if (s.userId === user.id) s.revoked = true;
      return { ok: true };
    },
    changePassword({ input }, ctx) {
      const { user, session } = principal(ctx);
      checkPassword(user, input.currentPassword!, 'currentPassword');
      user.password = input.newPassword!;
      for (const s of sessions.values()) if (s.userId === user.id && s.id !== session.id) s.revoked = true;
      return { user: publicUser(user) };
    },
    startPhoneChange({ input }, ctx) {
      const { user } = principal(ctx);
      checkPassword(user, input.password!, 'password');
      const c = challenge('phone', user.id, input.newPhone!);
      return { changeToken: c.token, sentTo: mask(input.newPhone!), expiresAt: c.expiresAt };
    },
    confirmPhoneChange({ input }, ctx) {
      const { user } = principal(ctx);
      const c = spend(input.changeToken!, 'phone', input.code!);
      if (c.userId !== user.id) throw gqlError('MFA_TOKEN_INVALID');
      user.phone = c.phone;
      user.phoneVerified = true;
      return { user: publicUser(user) };
    },
    deleteAccount({ input }, ctx) {
      const { user } = principal(ctx);
      checkPassword(user, input.password!, 'password');
      users.delete(user.email);
      for (const s of sessions.values()) if (s.userId === user.id) s.revoked = true;
      return { ok: true };
    },
  };

  async function answer(received: Received): Promise<Response> {
    const queued = overrides.get(received.operationName)?.shift() ?? overrides.get('*')?.shift();
    if (queued !== undefined) {
      const o = typeof queued === 'function' ? await queued(received) : queued;
      if (o instanceof Error) throw o;
      if (o instanceof Response) return o;
      return json(o);
    }
    if (received.validationErrors.length > 0) {
      return json({ errors: received.validationErrors.map((message) => ({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) }, 422);
    }
    const auth = received.headers.get('authorization');
    const ctx: Ctx = { token: auth?.startsWith('Bearer ') ? auth.slice(7) : null, userAgent: received.headers.get('user-agent') };
    const result = await graphql({
      schema,
      source: received.query,
      variableValues: received.variables,
      operationName: received.operationName,
      contextValue: ctx,
      rootValue: root,
      // Root resolvers take (args, context) like graphql-js's rootValue functions.
    });
    return json(result as Reply);
  }

  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; query: string; variables?: Record<string, unknown> };
    const headers = new Headers(init?.headers);
    let validationErrors: string[];
    try {
      validationErrors = validate(schema, parse(body.query)).map((e) => e.message);
    } catch (err) {
      validationErrors = [String(err)];
    }
    const received: Received = {
      operationName: body.operationName,
      query: body.query,
      variables: body.variables ?? {},
      headers,
      validationErrors,
    };
    requests.push(received);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    else await Promise.resolve();
    if (init?.signal?.aborted) throw init.signal.reason ?? new DOMException('aborted', 'AbortError');
    return answer(received);
  };

  return {
    fetch,
    /** Every request received, in order. */
    requests,
    /** Answer the next request for operationName ("*": any) with o instead. */
    override(operationName: string, ...o: Override[]) {
      overrides.set(operationName, [...(overrides.get(operationName) ?? []), ...o]);
    },
    /** The last code sent to phone. */
    code(phone: string): string {
      const c = lastCode.get(phone);
      if (c === undefined) throw new Error(`fake: no code sent to ${phone}`);
      return c;
    },
    /** Make an account directly. */
    addUser(email = 'ada@example.com', password = 'correct horse battery staple', phone = '+14155550123') {
      return root.register!({ input: { email, password, phone } } as Args, { token: null, userAgent: null });
    },
    /** End every session, as an administrator would. */
    revokeAll() {
      for (const s of sessions.values()) s.revoked = true;
    },
    /** Forget every access token, as a server whose signing keys changed would. */
    forgetAccessTokens() {
      accessTokens.clear();
    },
    liveSessions: () => [...sessions.values()].filter((s) => !s.revoked).length,
    operations: () => requests.map((r) => r.operationName),
  };
}

function mask(phone: string) {
  return phone.slice(0, 2) + '*'.repeat(Math.max(0, phone.length - 6)) + phone.slice(-4);
}

function json(body: Reply, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
