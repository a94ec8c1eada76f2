// The access token store.
//
// The token lives in memory and is mirrored to sessionStorage, never to
// localStorage: sessionStorage survives a reload of this tab but dies with the
// tab and is not shared with other tabs, so a stolen-laptop or shared-computer
// window is short. Any script on the page could read either storage, so the
// real defence against token theft is not running foreign script (CSP, no
// dangerouslySetInnerHTML); see README.md.

/** The subset of Web Storage we use, so tests can pass a fake or null. */
export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface SessionStore {
  /** The access token, or null if signed out or the token has expired. */
  token(): string | null;
  /** Save a token from verifyOtp; expiresIn is in seconds, as the API gives it. */
  save(accessToken: string, expiresIn: number): void;
  /** Forget the token (sign-out, or the server said UNAUTHENTICATED). */
  clear(): void;
}

const storageKey = 'twostep.session';

interface Saved {
  accessToken: string;
  /** Milliseconds since the epoch, by this browser's clock. */
  expiresAt: number;
}

/**
 * createSessionStore returns a store backed by storage (sessionStorage in the
 * app). A storage that throws (disabled, or full) only costs the
 * survive-a-reload feature: the token still works from memory.
 */
export function createSessionStore(
  storage: TokenStorage | null,
  now: () => number = Date.now,
): SessionStore {
  let current: Saved | null = read(storage);

  function clear() {
    current = null;
    try {
      storage?.removeItem(storageKey);
    } catch {
      // Nothing stored that we could remove.
    }
  }

  return {
    token() {
      if (current && current.expiresAt <= now()) clear();
      return current?.accessToken ?? null;
    },
    save(accessToken, expiresIn) {
      current = { accessToken, expiresAt: now() + expiresIn * 1000 };
      try {
        storage?.setItem(storageKey, JSON.stringify(current));
      } catch {
        // Memory only; see createSessionStore.
      }
    },
    clear,
  };
}

function read(storage: TokenStorage | null): Saved | null {
  try {
    const raw = storage?.getItem(storageKey);
    if (!raw) return null;
    const v: unknown = JSON.parse(raw);
    if (
      typeof v === 'object' &&
      v !== null &&
      'accessToken' in v &&
      'expiresAt' in v &&
      typeof v.accessToken === 'string' &&
      typeof v.expiresAt === 'number'
    ) {
      return { accessToken: v.accessToken, expiresAt: v.expiresAt };
    }
  } catch {
    // Unreadable storage or a corrupt entry: start signed out.
  }
  return null;
}

/** sessionStorage if this browser lets us use it, else null. */
export function browserSessionStorage(): TokenStorage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
