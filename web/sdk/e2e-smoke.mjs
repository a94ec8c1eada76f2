#!/usr/bin/env node
// @ts-check
// A smoke test of the built SDK (dist/) against a real twostep server and its
// Verify emulator: register → login → verifyOtp (the code read from the
// emulator) → me → sessions → refreshSession → logout, then checks that the
// server refuses the ended session; on the way, two errors as the server
// sends them (several BAD_USER_INPUT, INVALID_OTP with attemptsLeft). Exits non-zero on the first failure.
//
//   npm run build
//   node e2e-smoke.mjs --server http://127.0.0.1:8080 --emulator http://127.0.0.1:4010
//
// (or TWOSTEP_URL and TWOSTEP_EMULATOR_URL). The server must send codes through
// the emulator (TWILIO_API_URL) and allow a login a few seconds after
// another one to the same number.
import { parseArgs } from 'node:util';
import { createTwostepClient, errorMessage, isTwostepError, memoryStorage } from '@twostep/client'; // this package's dist/, by its own name

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.TWOSTEP_URL },
    emulator: { type: 'string', default: process.env.TWOSTEP_EMULATOR_URL },
    phone: { type: 'string' },
  },
});
if (!values.server || !values.emulator) {
  console.error('usage: node e2e-smoke.mjs --server URL --emulator URL [--phone +1415555xxxx]');
  process.exit(2);
}
const server = values.server.replace(/\/$/, '');
const emulator = values.emulator.replace(/\/$/, '');

// A fresh account each run, so the script can run again against one server.
const stamp = Date.now().toString().slice(-7);
const email = `smoke-${stamp}-${Math.random().toString(36).slice(2, 8)}@example.com`;
const password = `smoke test password ${stamp}`;
const phone = values.phone ?? `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

const storage = memoryStorage();
const client = createTwostepClient({
  url: `${server}/graphql`,
  storage,
  headers: { 'user-agent': 'twostep-sdk-e2e-smoke' },
});

let passed = 0;

/**
 * @param {boolean} ok
 * @param {string} what
 */
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/**
 * @param {string} name
 * @param {() => Promise<string | void>} fn
 */
async function step(name, fn) {
  const started = Date.now();
  try {
    const note = await fn();
    passed++;
    console.log(`ok   ${name}${note ? `: ${note}` : ''} (${Date.now() - started} ms)`);
  } catch (err) {
    const detail = isTwostepError(err)
      ? `${err.code}: ${err.message} (${errorMessage(err)})${err.requestId ? ` request ${err.requestId}` : ''}`
      : String(err instanceof Error ? err.stack : err);
    console.error(`FAIL ${name}: ${detail}`);
    process.exit(1);
  }
}

/**
 * codeFor is the last code the emulator sent to a number, waiting briefly for it.
 * @param {string} to
 */
async function codeFor(to) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${emulator}/_emulator/code?to=${encodeURIComponent(to)}`);
    if (res.ok) {
      const body = /** @type {{ code?: string }} */ (await res.json());
      if (body.code) return body.code;
    }
    if (Date.now() > deadline) throw new Error(`the emulator has no code for ${to} (status ${res.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let mfaToken = '';
let oldToken = '';

/** @param {Promise<unknown>} p */
async function rejection(p) {
  const outcome = await p.then(
    () => null,
    (/** @type {unknown} */ err) => err,
  );
  if (!isTwostepError(outcome)) throw new Error(`want a TwostepError, got ${outcome === null ? 'success' : String(outcome)}`);
  return outcome;
}

await step('register refuses bad input, one error per field', async () => {
  const err = await rejection(client.register({ email: 'not an email', password: 'x', phone: '12' }));
  const fields = err.errors.map((e) => e.code === 'BAD_USER_INPUT' && e.field);
  check(err.errors.length >= 2 && fields.every(Boolean), `got ${JSON.stringify(err.errors)}`);
  return fields.join(', ');
});

await step('register', async () => {
  const { user } = await client.register({ email, password, phone });
  check(user.email === email, `register returned ${user.email}`);
  check(client.state().status === 'signedOut', 'register does not sign in');
  return user.id;
});

await step('login', async () => {
  const challenge = await client.login({ email, password, channel: 'SMS' });
  check(challenge.mfaToken.length > 0, 'an mfaToken');
  check(challenge.sentTo.endsWith(phone.slice(-4)) && !challenge.sentTo.includes(phone.slice(3, -4)), `masked sentTo ${challenge.sentTo}`);
  mfaToken = challenge.mfaToken;
  return `code sent to ${challenge.sentTo}`;
});

await step('a wrong code is INVALID_OTP with the attempts left', async () => {
  const right = await codeFor(phone);
  const wrong = right === '000000' ? '111111' : '000000';
  const err = await rejection(client.verifyOtp({ mfaToken, code: wrong }));
  check(err.code === 'INVALID_OTP' && err.attemptsLeft === 4, `got ${err.code} ${err.attemptsLeft}`);
  check(client.state().status === 'signedOut', 'still signed out');
});

await step('verifyOtp', async () => {
  const { user } = await client.verifyOtp({ mfaToken, code: await codeFor(phone) });
  const state = client.state();
  check(state.status === 'signedIn' && state.user.id === user.id, `signed in, got ${state.status}`);
  check(storage.items.size === 1 && storage.items.has('twostep.refresh'), 'only the refresh token is stored');
  check(![...storage.items.values()].some((v) => v.includes(mfaToken)), 'the mfaToken is not stored');
  oldToken = (await client.accessToken()) ?? '';
  check(oldToken.split('.').length === 3, 'the access token is a JWT');
});

await step('me', async () => {
  const me = await client.me();
  check(me.email === email && me.phone === phone && me.phoneVerified, `me is ${JSON.stringify(me)}`);
});

await step('sessions', async () => {
  const sessions = await client.sessions();
  check(sessions.length === 1 && sessions[0]?.current === true, `one current session, got ${sessions.length}`);
  check(sessions[0]?.userAgent === 'twostep-sdk-e2e-smoke', `the user agent, got ${sessions[0]?.userAgent}`);
});

await step('refreshSession', async () => {
  const fresh = await client.refreshSession();
  check(fresh !== null && fresh !== oldToken, 'a new access token');
  await client.me();
});

await step('logout', async () => {
  const { revokedSessions } = await client.logout('CURRENT');
  check(revokedSessions === 1, `revokedSessions ${revokedSessions}`);
  const state = client.state();
  check(state.status === 'signedOut' && state.reason === 'signOut', `signed out, got ${JSON.stringify(state)}`);
  check(storage.items.size === 0, 'nothing stored');
});

await step('the ended session is refused', async () => {
  const res = await fetch(`${server}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${oldToken}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
  const body = /** @type {{ errors?: { extensions?: { code?: string } }[] }} */ (await res.json());
  check(body.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', `got ${JSON.stringify(body)}`);
});

console.log(`e2e-smoke: ${passed} passed, 0 failed`);
