// The token store: where each token is kept, its state and change events,
// storage that fails, and other tabs' storage events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TwostepError } from '../src/errors.js';
import { createTokenStore, defaultStorageKey, memoryStorage, type AuthState, type TokenStorage } from '../src/store.js';
import { storageEvent, tokens, user } from './helpers.js';

const key = defaultStorageKey;

describe('TokenStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-30T10:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the access token in memory only, and the refresh token alone in storage', () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    store.save(tokens(1));
    expect([...storage.items]).toEqual([[key, 'ref-1']]);
    expect(store.accessToken()).toBe('tok-1');
    expect(store.state()).toEqual({ status: 'signedIn', user, expiresAt: Date.now() + 900_000, refreshExpiresAt: '2026-12-14T10:00:00Z' });
  });

  it('starts signed out without a stored token, and restoring with one', () => {
    expect(createTokenStore({ storage: memoryStorage() }).state()).toEqual({ status: 'signedOut', reason: null });
    const storage = memoryStorage();
    storage.setItem(key, 'ref-7');
    const store = createTokenStore({ storage });
    expect(store.state()).toEqual({ status: 'restoring', error: null });
    expect(store.accessToken()).toBeNull();
    expect(store.refreshToken()).toBe('ref-7');
  });

  it('uses the key it is given', () => {
    const storage = memoryStorage();
    createTokenStore({ storage, key: 'app.session' }).save(tokens(1));
    expect([...storage.items.keys()]).toEqual(['app.session']);
  });

  it('reads the refresh token afresh, as another tab may have rotated it', () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    store.save(tokens(1));
    storage.setItem(key, 'ref-2');
    expect(store.refreshToken()).toBe('ref-2');
  });

  it('clear forgets both tokens, says why, and keeps the first reason', () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    store.save(tokens(1));
    store.clear('REFRESH_TOKEN_INVALID');
    store.clear('signOut');
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'REFRESH_TOKEN_INVALID' });
    expect(storage.items.size).toBe(0);
    expect(store.accessToken()).toBeNull();
    store.save(tokens(2));
    store.clear('signOut');
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'signOut' });
  });

  it("leaves storage to the other tab when it is the other tab's sign-out", () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    store.save(tokens(1));
    storage.setItem(key, 'ref-of-a-new-sign-in');
    store.clear('otherTab');
    expect(storage.getItem(key)).toBe('ref-of-a-new-sign-in');
  });

  it('null storage: memory only', () => {
    const store = createTokenStore({ storage: null });
    store.save(tokens(1));
    expect(store.refreshToken()).toBe('ref-1');
    expect(store.state().status).toBe('signedIn');
  });

  it('works from memory when storage throws', () => {
    const throwing: TokenStorage = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    };
    const store = createTokenStore({ storage: throwing });
    expect(store.state().status).toBe('signedOut');
    store.save(tokens(1));
    expect(store.refreshToken()).toBe('ref-1');
    store.clear('signOut');
    expect(store.refreshToken()).toBeNull();
  });

  it('a full storage does not keep an older refresh token behind', () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    store.save(tokens(1));
    storage.setItem = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    store.save(tokens(2));
    expect(storage.items.size).toBe(0);
    expect(store.refreshToken()).toBe('ref-2');
  });

  it('accessToken() is null once the access token expires; the session stays', () => {
    const store = createTokenStore();
    store.save(tokens(1, 60));
    vi.advanceTimersByTime(59_999);
    expect(store.accessToken()).toBe('tok-1');
    vi.advanceTimersByTime(1);
    expect(store.accessToken()).toBeNull();
    expect(store.state().status).toBe('signedIn');
    expect(store.lifetime()).toEqual({ issuedAt: Date.now() - 60_000, expiresAt: Date.now() });
  });

  it("settle notes why restoring failed, and stays restoring", () => {
    const storage = memoryStorage();
    storage.setItem(key, 'ref-1');
    const store = createTokenStore({ storage });
    const err = new TwostepError([{ code: 'NETWORK_ERROR', message: 'offline' }]);
    store.settle(err);
    expect(store.state()).toEqual({ status: 'restoring', error: err });
    store.save(tokens(2));
    expect(store.state().status).toBe('signedIn');
    store.settle(err);
    expect(store.state().status).toBe('signedIn');
  });

  it('setUser replaces the user only for the signed-in user', () => {
    const store = createTokenStore();
    store.setUser(user);
    expect(store.state().status).toBe('signedOut');
    store.save(tokens(1));
    store.setUser({ ...user, phone: '+14155550199' });
    expect(store.state()).toMatchObject({ user: { phone: '+14155550199' } });
    store.setUser({ ...user, id: 'someone-else', phone: '+1' });
    expect(store.state()).toMatchObject({ user: { phone: '+14155550199' } });
  });

  it('tells listeners of every change, with the state, and keeps the same object until something changes', () => {
    const store = createTokenStore();
    const seen: AuthState[] = [];
    const stop = store.subscribe((s) => seen.push(s));
    const before = store.state();
    expect(store.state()).toBe(before);
    store.save(tokens(1));
    const signedIn = store.state();
    expect(store.state()).toBe(signedIn);
    store.clear('signOut');
    expect(seen.map((s) => s.status)).toEqual(['signedIn', 'signedOut']);
    expect(seen[0]).toBe(signedIn);
    stop();
    store.save(tokens(2));
    expect(seen).toHaveLength(2);
  });

  it('lets a listener unsubscribe while being called, and keeps calling the others', () => {
    const store = createTokenStore();
    const calls: string[] = [];
    const stopA = store.subscribe(() => {
      calls.push('a');
      stopA();
    });
    store.subscribe(() => calls.push('b'));
    store.save(tokens(1));
    store.save(tokens(2));
    expect(calls).toEqual(['a', 'b', 'b']);
  });

  it('changes generation with every save, clear and sign-in from another tab', () => {
    const storage = memoryStorage();
    const store = createTokenStore({ storage });
    const events = new EventTarget();
    store.listen(events);
    const g0 = store.generation();
    store.save(tokens(1));
    const g1 = store.generation();
    store.clear('signOut');
    const g2 = store.generation();
    storage.setItem(key, 'ref-9');
    events.dispatchEvent(storageEvent(key));
    expect(new Set([g0, g1, g2, store.generation()]).size).toBe(4);
  });
});

describe('other tabs, through storage events', () => {
  function twoTabs() {
    const storage = memoryStorage();
    const events = new EventTarget();
    const store = createTokenStore({ storage });
    const stop = store.listen(events);
    // The other tab writes the shared storage; the browser then tells this one.
    const other = {
      signIn(n: number) {
        storage.setItem(key, `ref-${n}`);
        events.dispatchEvent(storageEvent(key));
      },
      signOut() {
        storage.removeItem(key);
        events.dispatchEvent(storageEvent(key));
      },
      clearAll() {
        storage.items.clear();
        events.dispatchEvent(storageEvent(null));
      },
    };
    return { store, storage, events, other, stop };
  }

  it("another tab's sign-out signs this one out", () => {
    const { store, other } = twoTabs();
    store.save(tokens(1));
    other.signOut();
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'otherTab' });
    expect(store.accessToken()).toBeNull();
  });

  it('localStorage.clear() in another tab signs this one out', () => {
    const { store, other } = twoTabs();
    store.save(tokens(1));
    other.clearAll();
    expect(store.state()).toEqual({ status: 'signedOut', reason: 'otherTab' });
  });

  it("another tab's rotation and other keys change nothing", () => {
    const { store, other, storage, events } = twoTabs();
    store.save(tokens(1));
    const before = store.state();
    other.signIn(2);
    storage.setItem('something.else', 'x');
    events.dispatchEvent(storageEvent('something.else'));
    expect(store.state()).toBe(before);
    expect(store.accessToken()).toBe('tok-1');
  });

  it("another tab's sign-in starts restoring here", () => {
    const { store, other } = twoTabs();
    const seen: string[] = [];
    store.subscribe((s) => seen.push(s.status));
    other.signIn(5);
    expect(store.state()).toEqual({ status: 'restoring', error: null });
    expect(store.refreshToken()).toBe('ref-5');
    expect(seen).toEqual(['restoring']);
  });

  it('stops listening when told', () => {
    const { store, other, stop } = twoTabs();
    store.save(tokens(1));
    stop();
    other.signOut();
    expect(store.state().status).toBe('signedIn');
  });
});
