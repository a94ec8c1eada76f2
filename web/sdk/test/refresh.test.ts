// The refresher, on fake timers: when to refresh, backing off, one tab at a
// time under the lock, REFRESH_TOKEN_INVALID, and races with sign-out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TwostepError, parseError } from '../src/errors.js';
import { createRefresher, lockName, refreshDelay, retryDelay, type Locks } from '../src/refresh.js';
import { createTokenStore, defaultStorageKey as key, memoryStorage, type SessionTokens, type TokenStorage } from '../src/store.js';
import { fakeLocks, storageEvent, tokens } from './helpers.js';

function gqlError(code: string, extensions: Record<string, unknown> = {}) {
  return new TwostepError([parseError({ message: code.toLowerCase(), extensions: { code, ...extensions } })]);
}

/**
 * fakeServer rotates refresh tokens like twostep: each is good once; the one
 * before the current is forgiven for reuseMs after its rotation (answered
 * with the current token); anything else is REFRESH_TOKEN_INVALID.
 */
function fakeServer({ first = 1, reuseMs = 10_000, expiresIn = 900 } = {}) {
  let n = first;
  let rotatedAt = 0;
  let inFlight = 0;
  const server = {
    sent: [] as string[],
    maxInFlight: 0,
    /** Replaces the next answer; for failures. */
    fail: [] as unknown[],
    async send(refreshToken: string): Promise<SessionTokens> {
      server.sent.push(refreshToken);
      inFlight++;
      server.maxInFlight = Math.max(server.maxInFlight, inFlight);
      try {
        // An answer takes a while: long enough for a second caller to race.
        await new Promise((r) => setTimeout(r, 10));
        const failure = server.fail.shift();
        if (failure !== undefined) throw failure;
        if (refreshToken === `ref-${n}`) {
          n++;
          rotatedAt = Date.now();
          return tokens(n, expiresIn);
        }
        if (refreshToken === `ref-${n - 1}` && Date.now() - rotatedAt <= reuseMs) {
          return { ...tokens(n, expiresIn), accessToken: `tok-${n}-again` };
        }
        throw gqlError('REFRESH_TOKEN_INVALID');
      } finally {
        inFlight--;
      }
    },
  };
  return server;
}

/** tab is one browser tab: its own memory, the origin's shared storage and locks. */
function tab(storage: TokenStorage, server: ReturnType<typeof fakeServer>, locks: Locks | null) {
  const store = createTokenStore({ storage });
  const refresher = createRefresher({ store, send: server.send, locks });
  return { store, refresher };
}

function storedAt(n: number) {
  const storage = memoryStorage();
  storage.setItem(key, `ref-${n}`);
  return storage;
}

describe('refreshDelay', () => {
  it.each([
    { lifetime: 900, want: 840 },
    { lifetime: 3600, want: 3540 },
    { lifetime: 180, want: 120 },
    { lifetime: 90, want: 60 },
    { lifetime: 12, want: 8 },
    { lifetime: 6, want: 5 },
    { lifetime: 1, want: 5 },
  ])('a token living $lifetime s is refreshed after $want s', ({ lifetime, want }) => {
    expect(refreshDelay(lifetime * 1000)).toBe(want * 1000);
  });
});

describe('retryDelay', () => {
  it.each([
    { failures: 1, want: 2 },
    { failures: 2, want: 4 },
    { failures: 3, want: 8 },
    { failures: 6, want: 60 },
    { failures: 50, want: 60 },
    { failures: 1, retryAfter: 30, want: 30 },
    { failures: 6, retryAfter: 5, want: 60 },
  ])('after $failures failures (retryAfter $retryAfter) waits $want s', ({ failures, retryAfter, want }) => {
    expect(retryDelay(failures, retryAfter)).toBe(want * 1000);
  });
});

describe('Refresher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** settle runs the fake server's answers and whatever they set off. */
  async function settle<T>(p: Promise<T>): Promise<T> {
    await vi.advanceTimersByTimeAsync(100);
    return p;
  }

  it('restores a stored session with one refresh, however many ask at once', async () => {
    const storage = storedAt(1);
    const server = fakeServer();
    const { store, refresher } = tab(storage, server, fakeLocks());
    const got = await settle(Promise.all([refresher.accessToken(), refresher.accessToken()]));
    expect(got).toEqual(['tok-2', 'tok-2']);
    expect(server.sent).toEqual(['ref-1']);
    expect(storage.getItem(key)).toBe('ref-2');
    expect(store.state().status).toBe('signedIn');
  });

  it('two tabs refresh one at a time under the lock, the second with the token the first stored', async () => {
    const storage = storedAt(1);
    const server = fakeServer();
    const locks = fakeLocks();
    const a = tab(storage, server, locks);
    const b = tab(storage, server, locks);
    const got = await settle(Promise.all([a.refresher.accessToken(), b.refresher.accessToken()]));
    expect(server.maxInFlight).toBe(1);
    expect(locks.requested).toEqual([lockName, lockName]);
    expect(server.sent).toEqual(['ref-1', 'ref-2']);
    expect(got).toEqual(['tok-2', 'tok-3']);
    expect(storage.getItem(key)).toBe('ref-3');
    // Neither tab's session was taken for a stolen one.
    expect([a.store.state().status, b.store.state().status]).toEqual(['signedIn', 'signedIn']);
  });

  it('without Web Locks both tabs still get through: the server forgives the race', async () => {
    const storage = storedAt(1);
    const server = fakeServer();
    const a = tab(storage, server, null);
    const b = tab(storage, server, null);
    const got = await settle(Promise.all([a.refresher.accessToken(), b.refresher.accessToken()]));
    expect(server.sent).toEqual(['ref-1', 'ref-1']);
    expect(got).toEqual(['tok-2', 'tok-2-again']);
    expect(storage.getItem(key)).toBe('ref-2');
  });

  it('REFRESH_TOKEN_INVALID ends the session: both tokens forgotten', async () => {
    const storage = storedAt(1);
    const server = fakeServer({ first: 7 });
    const { store, refresher } = tab(storage, server, fakeLocks());
    await expect(settle(refresher.accessToken())).resolves.toBeNull();
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'REFRESH_TOKEN_INVALID' });
    expect(storage.items.size).toBe(0);
    expect(store.accessToken()).toBeNull();
  });

  it('after REFRESH_TOKEN_INVALID, tries once more with a token another tab stored meanwhile', async () => {
    const storage = storedAt(1);
    const server = fakeServer({ first: 2 });
    const { store, refresher } = tab(storage, server, null);
    const p = refresher.accessToken();
    // A tab without the lock rotated ref-1 to ref-2 while ours was on its way.
    storage.setItem(key, 'ref-2');
    await expect(settle(p)).resolves.toBe('tok-3');
    expect(server.sent).toEqual(['ref-1', 'ref-2']);
    expect(store.state().status).toBe('signedIn');
  });

  it('a transient failure keeps the refresh token and retries later, waiting longer each time', async () => {
    const storage = storedAt(1);
    const server = fakeServer();
    const offline = new TypeError('Failed to fetch');
    server.fail.push(offline, offline);
    const { store, refresher } = tab(storage, server, fakeLocks());
    const stop = refresher.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(server.sent).toEqual(['ref-1']);
    expect(storage.getItem(key)).toBe('ref-1');
    // Still restoring, now saying why; the session is kept.
    const state = store.state();
    expect(state.status === 'restoring' && state.error?.code).toBe('NETWORK_ERROR');
    expect(store.accessToken()).toBeNull();

    await vi.advanceTimersByTimeAsync(1_850);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3_850);
    expect(server.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.sent).toEqual(['ref-1', 'ref-1', 'ref-1']);
    expect(store.accessToken()).toBe('tok-2');
    expect(store.state().status).toBe('signedIn');
    stop();
  });

  it('rejects the caller with a TwostepError when the refresh failed for a reason that may pass', async () => {
    const server = fakeServer();
    server.fail.push(gqlError('SERVICE_UNAVAILABLE'));
    const { refresher } = tab(storedAt(1), server, null);
    const err = refresher.accessToken().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    await expect(err).resolves.toMatchObject({ name: 'TwostepError', code: 'SERVICE_UNAVAILABLE' });
  });

  it('waits as long as RATE_LIMITED says', async () => {
    const server = fakeServer();
    server.fail.push(gqlError('RATE_LIMITED', { retryAfter: 30 }));
    const { refresher } = tab(storedAt(1), server, null);
    const stop = refresher.start();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(server.sent).toHaveLength(2);
    stop();
  });

  it('never loops hot on a server that keeps failing', async () => {
    const server = fakeServer();
    server.fail.push(...Array.from({ length: 100 }, () => gqlError('SERVICE_UNAVAILABLE')));
    const { refresher } = tab(storedAt(1), server, null);
    const stop = refresher.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    // At 0, 2, 6, 14, 30, 62 s, then once a minute.
    expect(server.sent.length).toBeGreaterThan(5);
    expect(server.sent.length).toBeLessThanOrEqual(15);
    stop();
  });

  it.each([
    { expiresIn: 900, at: 840 },
    { expiresIn: 12, at: 8 },
  ])('refreshes a $expiresIn s token by itself after $at s', async ({ expiresIn, at }) => {
    const storage = memoryStorage();
    const server = fakeServer({ expiresIn });
    const { store, refresher } = tab(storage, server, fakeLocks());
    const stop = refresher.start();
    store.save(tokens(1, expiresIn));
    await vi.advanceTimersByTimeAsync(at * 1000 - 1);
    expect(server.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(server.sent).toEqual(['ref-1']);
    expect(store.accessToken()).toBe('tok-2');
    // And the next one is planned from the new token.
    await vi.advanceTimersByTimeAsync(at * 1000);
    expect(server.sent).toEqual(['ref-1', 'ref-2']);
    stop();
    await vi.advanceTimersByTimeAsync(at * 3000);
    expect(server.sent).toHaveLength(2);
  });

  it('start nests: the timer runs until the last stop', async () => {
    const server = fakeServer({ expiresIn: 12 });
    const { store, refresher } = tab(memoryStorage(), server, null);
    const stop1 = refresher.start();
    const stop2 = refresher.start();
    store.save(tokens(1, 12));
    stop1();
    stop1();
    await vi.advanceTimersByTimeAsync(8_100);
    expect(server.sent).toEqual(['ref-1']);
    stop2();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sent).toEqual(['ref-1']);
  });

  it('refresh(rejected) uses a token that arrived meanwhile instead of refreshing again', async () => {
    const server = fakeServer();
    const { store, refresher } = tab(memoryStorage(), server, null);
    store.save(tokens(1));
    await expect(settle(refresher.refresh('tok-1'))).resolves.toBe('tok-2');
    await expect(settle(refresher.refresh('tok-1'))).resolves.toBe('tok-2');
    expect(server.sent).toEqual(['ref-1']);
  });

  it('drops the answer of a refresh that was under way when the person signed out', async () => {
    const storage = storedAt(1);
    const server = fakeServer();
    const { store, refresher } = tab(storage, server, null);
    const p = refresher.accessToken();
    store.clear('signOut');
    await expect(settle(p)).resolves.toBeNull();
    expect(storage.items.size).toBe(0);
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
  });

  it('finds the other tab signed out under the lock, before its storage event arrives', async () => {
    const storage = memoryStorage();
    const { store, refresher } = tab(storage, fakeServer(), fakeLocks());
    store.save(tokens(1));
    storage.removeItem(key);
    await expect(settle(refresher.refresh('tok-1'))).resolves.toBeNull();
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'otherTab' });
  });

  it("follows another tab's sign-in: restores at once when started", async () => {
    const storage = memoryStorage();
    const events = new EventTarget();
    const server = fakeServer({ first: 4 });
    const { store, refresher } = tab(storage, server, fakeLocks());
    store.listen(events);
    const stop = refresher.start();
    storage.setItem(key, 'ref-4');
    events.dispatchEvent(storageEvent(key));
    await vi.advanceTimersByTimeAsync(100);
    expect(server.sent).toEqual(['ref-4']);
    expect(store.state().status).toBe('signedIn');
    expect(store.accessToken()).toBe('tok-5');
    stop();
  });

  it('does nothing when signed out', async () => {
    const server = fakeServer();
    const { refresher } = tab(memoryStorage(), server, fakeLocks());
    const stop = refresher.start();
    await expect(settle(refresher.accessToken())).resolves.toBeNull();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(server.sent).toEqual([]);
    stop();
  });
});
