// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionStore, dropLegacyAccessToken, refreshTokenKey, type SessionStore, type TokenStorage } from './session';
import { memoryStorage, tokens } from './testing';

afterEach(() => {
  localStorage.clear();
  sessionStorage.clear();
});

/** everything lists every value in both Web Storage areas. */
function everything(): string[] {
  return [localStorage, sessionStorage].flatMap((area) => Object.keys(area).map((k) => area.getItem(k) ?? ''));
}

describe('where the tokens are kept', () => {
  it('the access token in memory only, the refresh token alone in localStorage', () => {
    sessionStorage.setItem('unrelated', 'x');
    const s = createSessionStore(localStorage);
    s.save(tokens(1));
    expect(s.token()).toBe('tok-1');
    expect({ ...localStorage }).toEqual({ [refreshTokenKey]: 'ref-1' });
    expect({ ...sessionStorage }).toEqual({ unrelated: 'x' });
    expect(everything().some((v) => v.includes('tok-1'))).toBe(false);
  });

  it('a refresh replaces the stored refresh token', () => {
    const s = createSessionStore(localStorage);
    s.save(tokens(1));
    s.save(tokens(2));
    expect({ ...localStorage }).toEqual({ [refreshTokenKey]: 'ref-2' });
    expect(everything().some((v) => v.includes('tok-'))).toBe(false);
  });

  it('a reload finds the refresh token and no access token: restoring', () => {
    createSessionStore(localStorage).save(tokens(1));
    const after = createSessionStore(localStorage);
    expect(after.token()).toBeNull();
    expect(after.refreshToken()).toBe('ref-1');
    expect(after.snapshot()).toEqual({ status: 'restoring', ended: null });
  });

  it('reads the refresh token afresh, as another tab may have rotated it', () => {
    const s = createSessionStore(localStorage);
    s.save(tokens(1));
    localStorage.setItem(refreshTokenKey, 'ref-from-another-tab');
    expect(s.refreshToken()).toBe('ref-from-another-tab');
  });

  it('clear forgets both tokens everywhere', () => {
    const s = createSessionStore(localStorage);
    s.save(tokens(1));
    s.clear('signOut');
    expect(s.token()).toBeNull();
    expect(s.refreshToken()).toBeNull();
    expect(localStorage.length).toBe(0);
    expect(createSessionStore(localStorage).snapshot().status).toBe('signedOut');
  });

  it("clear for another tab's sign-out leaves storage to that tab", () => {
    const s = createSessionStore(localStorage);
    s.save(tokens(1));
    localStorage.setItem(refreshTokenKey, 'ref-of-a-new-sign-in');
    s.clear('otherTab');
    expect(s.token()).toBeNull();
    expect(localStorage.getItem(refreshTokenKey)).toBe('ref-of-a-new-sign-in');
  });

  it('works from memory when storage throws', () => {
    const broken: TokenStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const s = createSessionStore(broken);
    s.save(tokens(1));
    expect(s.token()).toBe('tok-1');
    expect(s.refreshToken()).toBe('ref-1');
    s.clear('signOut');
    expect(s.refreshToken()).toBeNull();
  });

  it('a full storage does not keep an older refresh token behind', () => {
    const storage = memoryStorage();
    const s = createSessionStore(storage);
    s.save(tokens(1));
    storage.setItem = () => {
      throw new Error('quota');
    };
    s.save(tokens(2));
    expect(s.refreshToken()).toBe('ref-2');
    expect(storage.items.size).toBe(0);
  });

  it('drops the access token older builds kept in sessionStorage', () => {
    sessionStorage.setItem('twostep.session', '{"accessToken":"old","expiresAt":1}');
    dropLegacyAccessToken(sessionStorage);
    expect(sessionStorage.length).toBe(0);
  });
});

describe('SessionStore', () => {
  it('token() is null once the access token expires, and the session stays', () => {
    let now = 1_000;
    const s = createSessionStore(memoryStorage(), () => now);
    s.save(tokens(1, 60));
    expect(s.lifetime()).toEqual({ issuedAt: 1_000, expiresAt: 61_000 });
    now += 60_000;
    expect(s.token()).toBeNull();
    expect(s.snapshot().status).toBe('signedIn');
  });

  it.each([
    { name: 'nothing stored', setup: () => {}, want: { status: 'signedOut', ended: null } },
    { name: 'saved', setup: (s: SessionStore) => s.save(tokens(1)), want: { status: 'signedIn', ended: null } },
    {
      name: 'ended by the server',
      setup: (s: SessionStore) => {
        s.save(tokens(1));
        s.clear('REFRESH_TOKEN_INVALID');
      },
      want: { status: 'signedOut', ended: 'REFRESH_TOKEN_INVALID' },
    },
    {
      name: 'a late clear does not rewrite why it ended',
      setup: (s: SessionStore) => {
        s.save(tokens(1));
        s.clear('signOut');
        s.clear('UNAUTHENTICATED');
      },
      want: { status: 'signedOut', ended: 'signOut' },
    },
    {
      name: 'signed in again',
      setup: (s: SessionStore) => {
        s.save(tokens(1));
        s.clear('signOut');
        s.save(tokens(2));
      },
      want: { status: 'signedIn', ended: null },
    },
  ])('snapshot when $name', ({ setup, want }) => {
    const s = createSessionStore(memoryStorage());
    setup(s);
    expect(s.snapshot()).toEqual(want);
  });

  it('restoring ends with tokens, or settles without them', () => {
    const storage = memoryStorage();
    storage.setItem(refreshTokenKey, 'ref-1');
    const a = createSessionStore(storage);
    a.save(tokens(2));
    expect(a.snapshot().status).toBe('signedIn');
    const b = createSessionStore(storage);
    b.settle();
    expect(b.snapshot().status).toBe('signedIn');
    expect(b.token()).toBeNull();
  });

  it('keeps the same snapshot object until something changes, for useSyncExternalStore', () => {
    const s = createSessionStore(memoryStorage());
    s.save(tokens(1));
    const first = s.snapshot();
    s.save(tokens(2));
    expect(s.snapshot()).toBe(first);
    s.clear('signOut');
    expect(s.snapshot()).not.toBe(first);
  });

  it('generation changes with every save and clear', () => {
    const s = createSessionStore(memoryStorage());
    const seen = new Set([s.generation()]);
    s.save(tokens(1));
    seen.add(s.generation());
    s.clear('signOut');
    seen.add(s.generation());
    s.settle();
    seen.add(s.generation());
    expect(seen.size).toBe(3);
  });
});

describe('SessionStore.subscribe', () => {
  /** listen subscribes to s and records the status at each call. */
  function listen(s: SessionStore) {
    const calls: string[] = [];
    const unsubscribe = s.subscribe(() => calls.push(s.snapshot().status));
    return { calls, unsubscribe };
  }

  it.each([
    { name: 'save', act: (s: SessionStore) => s.save(tokens(1)), want: ['signedIn'] },
    { name: 'clear', act: (s: SessionStore) => s.clear('signOut'), want: ['signedOut'] },
    {
      name: 'save then clear',
      act: (s: SessionStore) => {
        s.save(tokens(1));
        s.clear('signOut');
      },
      want: ['signedIn', 'signedOut'],
    },
    { name: 'reading the tokens', act: (s: SessionStore) => void [s.token(), s.refreshToken(), s.snapshot()], want: [] },
  ])('after $name, listeners hear $want', ({ act, want }) => {
    const s = createSessionStore(memoryStorage());
    const { calls } = listen(s);
    act(s);
    expect(calls).toEqual(want);
  });

  it('stops calling a listener that unsubscribed, and only that one', () => {
    const s = createSessionStore(memoryStorage());
    const a = listen(s);
    const b = listen(s);
    s.save(tokens(1));
    a.unsubscribe();
    s.clear('signOut');
    a.unsubscribe();
    s.save(tokens(2));
    expect(a.calls).toEqual(['signedIn']);
    expect(b.calls).toEqual(['signedIn', 'signedOut', 'signedIn']);
  });

  it('lets a listener unsubscribe while being called', () => {
    const s = createSessionStore(memoryStorage());
    const calls: string[] = [];
    const unsubscribe = s.subscribe(() => {
      calls.push('first');
      unsubscribe();
    });
    s.subscribe(() => calls.push('second'));
    s.save(tokens(1));
    s.clear('signOut');
    expect(calls).toEqual(['first', 'second', 'second']);
  });
});
