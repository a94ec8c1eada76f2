// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createSessionStore, type TokenStorage } from './session';

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

  it('never touches localStorage', () => {
    localStorage.clear();
    const s = createSessionStore(sessionStorage);
    s.save('tok', 60);
    expect(localStorage.length).toBe(0);
    s.clear();
  });
});
