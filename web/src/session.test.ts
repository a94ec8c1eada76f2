// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createSessionStore, type SessionStore, type TokenStorage } from './session';

function memoryStorage(): TokenStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe('createSessionStore', () => {
  it('keeps a saved token in memory and in the given storage', () => {
    const storage = memoryStorage();
    const s = createSessionStore(storage, () => 1_000);
    s.save('tok', 60);
    expect(s.token()).toBe('tok');
    expect(storage.items.size).toBe(1);
  });

  it('restores the token after a reload', () => {
    const storage = memoryStorage();
    createSessionStore(storage, () => 1_000).save('tok', 60);
    expect(createSessionStore(storage, () => 2_000).token()).toBe('tok');
  });

  it('drops an expired token from memory and storage', () => {
    const storage = memoryStorage();
    let now = 1_000;
    const s = createSessionStore(storage, () => now);
    s.save('tok', 60);
    now += 60_000;
    expect(s.token()).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it('clear forgets the token everywhere', () => {
    const storage = memoryStorage();
    const s = createSessionStore(storage);
    s.save('tok', 60);
    s.clear();
    expect(s.token()).toBeNull();
    expect(createSessionStore(storage).token()).toBeNull();
  });

  it('ignores a corrupt stored entry', () => {
    const storage = memoryStorage();
    storage.setItem('twostep.session', '{"accessToken":42}');
    expect(createSessionStore(storage).token()).toBeNull();
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
    s.save('tok', 60);
    expect(s.token()).toBe('tok');
    s.clear();
    expect(s.token()).toBeNull();
  });

  it('signedIn is false once the token expires, without forgetting it yet', () => {
    const storage = memoryStorage();
    let now = 1_000;
    const s = createSessionStore(storage, () => now);
    expect(s.signedIn()).toBe(false);
    s.save('tok', 60);
    expect(s.signedIn()).toBe(true);
    now += 60_000;
    expect(s.signedIn()).toBe(false);
    expect(storage.items.size).toBe(1);
  });

  it('never touches localStorage', () => {
    localStorage.clear();
    const s = createSessionStore(sessionStorage);
    s.save('tok', 60);
    expect(localStorage.length).toBe(0);
    s.clear();
  });
});

describe('SessionStore.subscribe', () => {
  /** listen subscribes to s and records signedIn() at each call. */
  function listen(s: SessionStore) {
    const calls: boolean[] = [];
    const unsubscribe = s.subscribe(() => calls.push(s.signedIn()));
    return { calls, unsubscribe };
  }

  it.each([
    { name: 'save', act: (s: SessionStore) => s.save('tok', 60), want: [true] },
    { name: 'clear', act: (s: SessionStore) => s.clear(), want: [false] },
    {
      name: 'save then clear',
      act: (s: SessionStore) => {
        s.save('tok', 60);
        s.clear();
      },
      want: [true, false],
    },
    { name: 'reading the token', act: (s: SessionStore) => void s.token(), want: [] },
    { name: 'reading signedIn', act: (s: SessionStore) => void s.signedIn(), want: [] },
  ])('after $name, listeners hear $want', ({ act, want }) => {
    const s = createSessionStore(memoryStorage());
    const { calls } = listen(s);
    act(s);
    expect(calls).toEqual(want);
  });

  it('tells listeners when token() finds the token expired', () => {
    let now = 1_000;
    const s = createSessionStore(memoryStorage(), () => now);
    s.save('tok', 60);
    const { calls } = listen(s);
    now += 60_000;
    expect(s.token()).toBeNull();
    expect(s.token()).toBeNull();
    expect(calls).toEqual([false]);
  });

  it('stops calling a listener that unsubscribed, and only that one', () => {
    const s = createSessionStore(memoryStorage());
    const a = listen(s);
    const b = listen(s);
    s.save('tok', 60);
    a.unsubscribe();
    s.clear();
    a.unsubscribe();
    s.save('tok', 60);
    expect(a.calls).toEqual([true]);
    expect(b.calls).toEqual([true, false, true]);
  });

  it('lets a listener unsubscribe while being called', () => {
    const s = createSessionStore(memoryStorage());
    const calls: string[] = [];
    const unsubscribe = s.subscribe(() => {
      calls.push('first');
      unsubscribe();
    });
    s.subscribe(() => calls.push('second'));
    s.save('tok', 60);
    s.clear();
    expect(calls).toEqual(['first', 'second', 'second']);
  });
});
