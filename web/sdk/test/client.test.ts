// The client against the fake server: signing in, where tokens go, the
// token on each request, refresh-once-and-retry-once, sign-out, and tabs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTwostepClient } from '../src/client.js';
import { TwostepError } from '../src/errors.js';
import { operations } from '../src/generated/operations.js';
import { defaultStorageKey as key, memoryStorage } from '../src/store.js';
import { errorReply } from './fakeTwostep.js';
import { ada, createFakeTwostep, fakeOrigin, newClient, rejection, signIn } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

async function signedIn(opts: Parameters<typeof newClient>[1] = {}) {
  const fake = createFakeTwostep();
  const storage = memoryStorage();
  const client = newClient(fake, { storage, ...opts });
  await signIn(client, fake);
  fake.requests.length = 0;
  return { fake, client, storage };
}

describe('signing in', () => {
  it('login returns the challenge, verifyOtp signs in and keeps only the refresh token', async () => {
    const fake = createFakeTwostep();
    fake.addUser();
    const storage = memoryStorage();
    const client = newClient(fake, { storage });
    const seen: string[] = [];
    client.subscribe((s) => seen.push(s.status));

    const challenge = await client.login({ email: ada.email, password: ada.password });
    expect(challenge).toMatchObject({ channel: 'SMS', sentTo: '+1******0123', resendAfter: 30 });
    expect(challenge.mfaToken).toMatch(/^mfa-/);
    expect(client.state()).toEqual({ status: 'signedOut', reason: null });

    const { user } = await client.verifyOtp({ mfaToken: challenge.mfaToken, code: fake.code(ada.phone) });
    expect(user.email).toBe(ada.email);
    expect(client.state()).toMatchObject({ status: 'signedIn', user: { email: ada.email } });
    expect(seen).toEqual(['signedIn']);
    // The refresh token alone, under its key; no access or step token anywhere.
    expect([...storage.items.keys()]).toEqual([key]);
    expect(storage.items.get(key)).toMatch(/^sid-\d+\.1$/);
    expect(await client.accessToken()).toMatch(/^at-/);
  });

  it('never stores step tokens', async () => {
    const { client, storage, fake } = await signedIn();
    const before = [...storage.items];
    const reset = await client.requestPasswordReset({ email: ada.email });
    const change = await client.startPhoneChange({ newPhone: '+14155550199', password: ada.password });
    const challenge = await client.login({ email: ada.email, password: ada.password });
    expect([...storage.items]).toEqual(before);
    const everything = JSON.stringify([...storage.items]);
    for (const t of [reset.resetToken, change.changeToken, challenge.mfaToken]) expect(everything).not.toContain(t);
    expect(fake.requests.map((r) => r.operationName)).toEqual(['RequestPasswordReset', 'StartPhoneChange', 'Login']);
  });

  it('rejects with every error of the answer (register, one per field)', async () => {
    const fake = createFakeTwostep();
    fake.override('Register', {
      data: null,
      errors: [
        { message: 'Enter an email address like name@example.com', extensions: { code: 'BAD_USER_INPUT', field: 'email' } },
        { message: 'Use at least 8 characters', extensions: { code: 'BAD_USER_INPUT', field: 'password' } },
      ],
    });
    const err = await rejection(newClient(fake).register({ email: 'x', password: 'short', phone: '+1' }));
    expect(err).toBeInstanceOf(TwostepError);
    expect(err.errors.map((e) => 'field' in e && e.field)).toEqual(['email', 'password']);
  });

  it('a wrong code: INVALID_OTP with the attempts left, still signed out', async () => {
    const fake = createFakeTwostep();
    fake.addUser();
    const client = newClient(fake);
    const { mfaToken } = await client.login({ email: ada.email, password: ada.password });
    const err = await rejection(client.verifyOtp({ mfaToken, code: '000000' }));
    expect(err.code).toBe('INVALID_OTP');
    expect(err.attemptsLeft).toBe(4);
    expect(client.state().status).toBe('signedOut');
  });

  it('sends the headers it was given', async () => {
    const fake = createFakeTwostep();
    await newClient(fake, { headers: { 'user-agent': 'smoke/1' } }).requestPasswordReset({ email: ada.email });
    expect(fake.requests[0]?.headers.get('user-agent')).toBe('smoke/1');
  });
});

describe('operations that need a session', () => {
  it('are refused here, without a request, when signed out', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    const err = await rejection(client.me());
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(fake.requests).toEqual([]);
  });

  it('refresh first after a reload (a stored refresh token, no access token)', async () => {
    const { fake, storage } = await signedIn();
    const reloaded = newClient(fake, { storage });
    expect(reloaded.state()).toEqual({ status: 'restoring', error: null });
    const me = await reloaded.me();
    expect(me.email).toBe(ada.email);
    expect(fake.operations()).toEqual(['RefreshSession', 'Me']);
    expect(reloaded.state().status).toBe('signedIn');
  });

  it('on UNAUTHENTICATED refresh once and send once more', async () => {
    const { fake, client } = await signedIn();
    fake.forgetAccessTokens();
    await expect(client.me()).resolves.toMatchObject({ email: ada.email });
    expect(fake.operations()).toEqual(['Me', 'RefreshSession', 'Me']);
    const [first, , second] = fake.requests;
    expect(first?.headers.get('authorization')).not.toBe(second?.headers.get('authorization'));
  });

  it('refresh once for several operations refused together', async () => {
    const { fake, client } = await signedIn();
    fake.forgetAccessTokens();
    await Promise.all([client.me(), client.sessions(), client.securityEvents()]);
    expect(fake.operations().filter((o) => o === 'RefreshSession')).toHaveLength(1);
    expect(fake.operations()).toHaveLength(7);
  });

  it('end the session when the fresh token is refused too, without a third try', async () => {
    const { fake, client } = await signedIn();
    fake.override('Me', errorReply('UNAUTHENTICATED'), errorReply('UNAUTHENTICATED'));
    const err = await rejection(client.me());
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(fake.operations()).toEqual(['Me', 'RefreshSession', 'Me']);
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'UNAUTHENTICATED' });
  });

  it('end the session when the refresh answers REFRESH_TOKEN_INVALID', async () => {
    const { fake, client, storage } = await signedIn();
    fake.revokeAll();
    const err = await rejection(client.me());
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(fake.operations()).toEqual(['Me', 'RefreshSession']);
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'REFRESH_TOKEN_INVALID' });
    expect(storage.items.size).toBe(0);
  });

  it('keep the session when the refresh fails for a reason that may pass', async () => {
    const { fake, client } = await signedIn();
    fake.forgetAccessTokens();
    fake.override('RefreshSession', new TypeError('Failed to fetch'));
    const err = await rejection(client.me());
    expect(err.code).toBe('NETWORK_ERROR');
    expect(client.state().status).toBe('signedIn');
    await expect(client.me()).resolves.toMatchObject({ email: ada.email });
  });

  it('other errors pass through without a refresh', async () => {
    const { fake, client } = await signedIn();
    fake.override('Sessions', errorReply('SERVICE_UNAVAILABLE'));
    await expect(client.sessions()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(fake.operations()).toEqual(['Sessions']);
  });

  it('me, changePassword and confirmPhoneChange keep the user in state up to date', async () => {
    const { fake, client } = await signedIn();
    const { changeToken } = await client.startPhoneChange({ newPhone: '+14155550199', password: ada.password });
    await client.confirmPhoneChange({ changeToken, code: fake.code('+14155550199') });
    expect(client.state()).toMatchObject({ user: { phone: '+14155550199' } });
  });

  it('request sends an operation of your own, with the token when it needs one', async () => {
    const { fake, client } = await signedIn();
    const mine = { ...operations.Me, name: 'Me', document: 'query Me { me { id } }' };
    await expect(client.request(mine, {})).resolves.toEqual({ me: { id: expect.any(String) } });
    expect(fake.requests[0]?.headers.get('authorization')).toMatch(/^Bearer /);
  });
});

describe('signing out', () => {
  it('logout ends the session on the server and here', async () => {
    const { fake, client, storage } = await signedIn();
    await expect(client.logout()).resolves.toEqual({ revokedSessions: 1 });
    expect(fake.liveSessions()).toBe(0);
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
    expect(storage.items.size).toBe(0);
    await expect(client.logout()).resolves.toEqual({ revokedSessions: 0 });
  });

  it('logout ends the session here even when the server cannot be told, and says so', async () => {
    const { fake, client } = await signedIn();
    fake.override('Logout', new TypeError('Failed to fetch'));
    await expect(client.logout()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
  });

  it('signOut never rejects, and gives up on a silent server after signOutTimeoutMs', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake, { signOutTimeoutMs: 30 });
    await signIn(client, fake);
    fake.override('Logout', (req) => new Promise(() => void req));
    const started = Date.now();
    await expect(client.signOut()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
  });

  it('the sign-out is the reason even when the server ended the session first', async () => {
    const { fake, client } = await signedIn();
    fake.revokeAll();
    await client.signOut();
    expect(fake.operations()).toEqual(['Logout', 'RefreshSession']);
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
  });

  it('logout(OTHERS) keeps this session', async () => {
    const { fake, client } = await signedIn();
    const other = newClient(fake);
    await signIn(other, fake);
    await expect(client.logout('OTHERS')).resolves.toEqual({ revokedSessions: 1 });
    expect(client.state().status).toBe('signedIn');
    await expect(other.me()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(other.state()).toEqual({ status: 'signedOut', reason: 'REFRESH_TOKEN_INVALID' });
  });

  it('deleteAccount ends the session with accountDeleted', async () => {
    const { client } = await signedIn();
    await expect(client.deleteAccount({ password: ada.password })).resolves.toEqual({ ok: true });
    expect(client.state()).toEqual({ status: 'signedOut', reason: 'accountDeleted' });
  });

  it('a wrong password in deleteAccount changes nothing', async () => {
    const { client } = await signedIn();
    await expect(client.deleteAccount({ password: 'wrong' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', field: 'password' });
    expect(client.state().status).toBe('signedIn');
  });
});

describe('tabs', () => {
  function twoTabs(fake = createFakeTwostep()) {
    const origin = fakeOrigin();
    const open = () => {
      const { storage, events } = origin.newTab();
      const client = createTwostepClient({ url: 'http://test/graphql', fetch: fake.fetch, storage, events, locks: origin.locks });
      return { client, stop: client.start() };
    };
    return { fake, origin, a: open(), b: open() };
  }

  it("a sign-in in one tab signs the other in; a sign-out signs it out", async () => {
    const { fake, a, b, origin } = twoTabs();
    await signIn(a.client, fake);
    expect(b.client.state()).toMatchObject({ status: 'restoring' });
    await vi.waitFor(() => expect(b.client.state()).toMatchObject({ status: 'signedIn', user: { email: ada.email } }));
    // b refreshed under the lock with a's token; a's next refresh uses b's.
    expect(origin.locks.requested).toEqual(['twostep.refresh']);
    await expect(a.client.refreshSession()).resolves.toMatch(/^at-/);
    expect(fake.liveSessions()).toBe(1);

    await a.client.signOut();
    expect(b.client.state()).toEqual({ status: 'signedOut', reason: 'otherTab' });
    expect(a.client.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
    expect(origin.items.size).toBe(0);
    a.stop();
    b.stop();
  });

  it('two tabs restoring at once refresh one after the other, and both stay signed in', async () => {
    const fake = createFakeTwostep();
    const first = newClient(fake, { storage: memoryStorage() });
    await signIn(first, fake);
    const stored = first.store.refreshToken()!;
    const { a, b, origin } = twoTabs(fake);
    origin.items.set(key, stored);
    await Promise.all([a.client.refreshSession(), b.client.refreshSession()]);
    expect(fake.operations().filter((o) => o === 'RefreshSession')).toHaveLength(2);
    expect(a.client.state().status).toBe('signedIn');
    expect(b.client.state().status).toBe('signedIn');
    await expect(Promise.all([a.client.me(), b.client.me()])).resolves.toHaveLength(2);
    a.stop();
    b.stop();
  });
});
