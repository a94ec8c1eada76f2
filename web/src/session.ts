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

/**
 * SessionStore holds the access token outside React. Components read it
 * through useSyncExternalStore(subscribe, signedIn), never by calling token()
 * during render. Its methods do not use `this`, so they can be passed on as
 * they are.
 */
export interface SessionStore {
  /**
   * The access token, or null if signed out or the token has expired. An
   * expired token is forgotten here, and subscribers are told.
   */
  token(): string | null;
  /**
   * Whether there is an unexpired token. It changes nothing, so it is safe to
   * call during render (it is useSyncExternalStore's getSnapshot). It turns
   * false by itself when the token expires; the next render sees that.
   */
  signedIn(): boolean;
  /** Save a token from verifyOtp; expiresIn is in seconds, as the API gives it. */
  save(accessToken: string, expiresIn: number): void;
  /** Forget the token (sign-out, or the server said UNAUTHENTICATED). */
  clear(): void;
  /**
   * Call listener after every save or clear, including an expired token
   * being forgotten. Returns the function that stops the calls.
   */
  subscribe(listener: () => void): () => void;
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
  const listeners = new Set<() => void>();

  function notify() {
    for (const listener of [...listeners]) listener();
  }

  function clear() {
    current = null;
    try {
      storage?.removeItem(storageKey);
    } catch {
      // Nothing stored that we could remove.
    }
    notify();
  }

  return {
    token() {
      if (current && current.expiresAt <= now()) clear();
      return current?.accessToken ?? null;
    },
    signedIn() {
      return current !== null && current.expiresAt > now();
    },
    save(accessToken, expiresIn) {
      current = { accessToken, expiresAt: now() + expiresIn * 1000 };
      try {
        storage?.setItem(storageKey, JSON.stringify(current));
      } catch {
        // Memory only; see createSessionStore.
      }
      notify();
    },
    clear,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
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
