// The session's tokens, kept outside React.
//
// The access token lives in memory only: the Apollo link reads it from here,
// and no storage, other tab or disk ever holds it. The refresh token lives
// in localStorage, which every tab of this origin shares and which outlives
// a reload or a closed tab, so one sign-in (one SMS) serves them all. Script
// on the page could read localStorage, so the defences are elsewhere:
// the server rotates refresh tokens and ends a session whose old token is
// used again, and the page runs no foreign script (CSP, no HTML from data).
// Why not an HttpOnly cookie: README.md.
import type { Tokens } from './graphql';

/** The subset of Web Storage we use, so tests can pass a fake or null. */
export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** refreshTokenKey is the localStorage key of the refresh token, and the only thing stored. */
export const refreshTokenKey = 'twostep.refresh';

/**
 * SessionStatus: signedOut (no session), restoring (a stored refresh token,
 * its first refresh in this tab still pending) or signedIn.
 */
export type SessionStatus = 'signedOut' | 'restoring' | 'signedIn';

/**
 * EndReason is why a session ended in this tab: the person signed out here
 * or in another tab, deleted their account here, or the server said the
 * session is over.
 */
export type EndReason = 'signOut' | 'otherTab' | 'accountDeleted' | 'REFRESH_TOKEN_INVALID' | 'UNAUTHENTICATED';

/** SessionSnapshot is what React renders from; a new object only when it changes. */
export interface SessionSnapshot {
  readonly status: SessionStatus;
  /** Why the last session ended; null unless status is signedOut. */
  readonly ended: EndReason | null;
}

/** AccessLifetime is when the access token was received and when it expires, in ms by this browser's clock. */
export interface AccessLifetime {
  issuedAt: number;
  expiresAt: number;
}

/**
 * SessionStore holds a session's tokens. Components read it through
 * useSyncExternalStore(subscribe, snapshot), never by calling token() during
 * render. Its methods do not use `this`, so they can be passed on as they are.
 */
export interface SessionStore {
  /** The access token, or null if there is none or it has expired. */
  token(): string | null;
  /** When the access token was received and expires; null if there is none. */
  lifetime(): AccessLifetime | null;
  /**
   * The refresh token, read afresh from storage each time: another tab may
   * have rotated it, or removed it by signing out.
   */
  refreshToken(): string | null;
  /** The status; safe to call during render (useSyncExternalStore's getSnapshot). */
  snapshot(): SessionSnapshot;
  /** Keep the tokens of a sign-in or a refresh; ends restoring. */
  save(tokens: Tokens): void;
  /**
   * Stop restoring without tokens: the first refresh failed for a reason
   * that may pass (offline, say). The session stays; pages show the error.
   */
  settle(): void;
  /**
   * Forget both tokens. For otherTab the storage is left alone: the other
   * tab cleared it, and may since have stored a new sign-in's token.
   */
  clear(reason: EndReason): void;
  /**
   * A number that changes with every save and clear, so a refresh that
   * finishes after a sign-out (or a new sign-in) can tell its answer is stale.
   */
  generation(): number;
  /**
   * Call listener after every save, settle and clear. Returns the function
   * that stops the calls.
   */
  subscribe(listener: () => void): () => void;
}

/**
 * createSessionStore returns a store whose refresh token is kept in storage
 * (localStorage in the app). A storage that is missing or throws (disabled,
 * or full) only costs surviving a reload: the tokens still work from memory.
 */
export function createSessionStore(storage: TokenStorage | null, now: () => number = Date.now): SessionStore {
  let usable = storage !== null;
  let access: (AccessLifetime & { token: string }) | null = null;
  // The refresh token as this tab last knew it: whether there is a session,
  // and the token itself when storage is not usable.
  let refresh: string | null = null;
  refresh = read();
  let restoring = refresh !== null;
  let ended: EndReason | null = null;
  let generation = 0;
  let snapshot = compute();
  const listeners = new Set<() => void>();

  function read(): string | null {
    if (!usable) return refresh;
    try {
      return storage?.getItem(refreshTokenKey) ?? null;
    } catch {
      usable = false;
      return refresh;
    }
  }

  function compute(): SessionSnapshot {
    let status: SessionStatus = 'signedIn';
    if (refresh === null && access === null) status = 'signedOut';
    else if (restoring && access === null) status = 'restoring';
    return { status, ended: status === 'signedOut' ? ended : null };
  }

  function changed() {
    const next = compute();
    if (next.status !== snapshot.status || next.ended !== snapshot.ended) snapshot = next;
    for (const listener of [...listeners]) listener();
  }

  return {
    token() {
      return access !== null && access.expiresAt > now() ? access.token : null;
    },
    lifetime() {
      return access && { issuedAt: access.issuedAt, expiresAt: access.expiresAt };
    },
    refreshToken: read,
    snapshot: () => snapshot,
    save({ accessToken, expiresIn, refreshToken }) {
      generation++;
      const t = now();
      access = { token: accessToken, issuedAt: t, expiresAt: t + expiresIn * 1000 };
      refresh = refreshToken;
      restoring = false;
      ended = null;
      if (usable) {
        try {
          storage?.setItem(refreshTokenKey, refreshToken);
        } catch {
          // Full or refused: from now on the token lives in memory only, and
          // an older one must not be left behind for the next load to use.
          usable = false;
          try {
            storage?.removeItem(refreshTokenKey);
          } catch {
            // Nothing we can do; the server refuses a retired token anyway.
          }
        }
      }
      changed();
    },
    settle() {
      if (!restoring) return;
      restoring = false;
      changed();
    },
    clear(reason) {
      generation++;
      // The first reason stands: a late answer must not rewrite why it ended.
      if (refresh !== null || access !== null) ended = reason;
      access = null;
      refresh = null;
      restoring = false;
      if (usable && reason !== 'otherTab') {
        try {
          storage?.removeItem(refreshTokenKey);
        } catch {
          // Nothing stored that we could remove.
        }
      }
      changed();
    },
    generation: () => generation,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/**
 * dropLegacyAccessToken removes the access token that builds before refresh
 * tokens kept in sessionStorage, so a tab that ran one holds none on disk.
 */
export function dropLegacyAccessToken(storage: TokenStorage | null) {
  try {
    storage?.removeItem('twostep.session');
  } catch {
    // Unusable storage holds nothing.
  }
}

/** localStorage if this browser lets us use it, else null. */
export function browserLocalStorage(): TokenStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** sessionStorage if this browser lets us use it, else null. */
export function browserSessionStorage(): TokenStorage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
