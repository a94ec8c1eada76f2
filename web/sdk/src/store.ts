// The session's tokens, and who is signed in.
//
// The access token lives in memory only: no storage, other tab or disk ever
// holds it. The refresh token lives in localStorage under one key, which
// every tab of the origin shares and which outlives a reload or a closed
// tab, so one sign-in (one SMS) serves them all. Script on the page could
// read localStorage, so the defences are elsewhere: the server rotates
// refresh tokens and ends a session whose old token is used again, and the
// page runs no foreign script. Why not an HttpOnly cookie: the top README's
// "The web client" section.
import type { TwostepError } from './errors.js';
import type { UserFields } from './generated/operations.js';

/** TokenStorage is the subset of Web Storage the store uses, so tests can pass a fake. */
export type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** defaultStorageKey is the localStorage key of the refresh token, and the only thing stored. */
export const defaultStorageKey = 'twostep.refresh';

/**
 * EndReason is why a session ended in this tab: the person signed out here
 * or in another tab, deleted the account, or the server said the session
 * is over (its refresh token refused, or an access token refused twice).
 */
export type EndReason = 'signOut' | 'otherTab' | 'accountDeleted' | 'REFRESH_TOKEN_INVALID' | 'UNAUTHENTICATED';

/** SignedOut: no session. reason says why the last one ended, or is null if there was none. */
export interface SignedOutState {
  readonly status: 'signedOut';
  readonly reason: EndReason | null;
}

/**
 * Restoring: a stored refresh token (a reload, a new tab, another tab's
 * sign-in), its first refresh in this tab still pending. error is why the
 * last try failed, when it failed for a reason that may pass (offline, the
 * server briefly down, rate limited); the refresher tries again later.
 */
export interface RestoringState {
  readonly status: 'restoring';
  readonly error: TwostepError | null;
}

/** SignedIn: a session with an access token in memory. */
export interface SignedInState {
  readonly status: 'signedIn';
  /** Who, as of the last sign-in, refresh or me. */
  readonly user: UserFields;
  /** When the access token expires, in ms since the epoch by this machine's clock. */
  readonly expiresAt: number;
  /** When the refresh token stops working unless used (RFC 3339), as the server said. */
  readonly refreshExpiresAt: string | null;
}

/** AuthState is what an app renders from. A new object only when something changed. */
export type AuthState = SignedOutState | RestoringState | SignedInState;

/** SessionTokens is what verifyOtp and refreshSession hand over. */
export interface SessionTokens {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt?: string | null;
  user: UserFields;
}

/** AccessLifetime is when the access token was received and expires, in ms by this machine's clock. */
export interface AccessLifetime {
  issuedAt: number;
  expiresAt: number;
}

/**
 * TokenStore holds a session's tokens and tells its listeners of every
 * change. Its methods do not use `this`, so they can be passed on as they are
 * (useSyncExternalStore(store.subscribe, store.state)).
 */
export interface TokenStore {
  /** The current state; cheap, and safe to call during render. */
  state(): AuthState;
  /** Call listener with the state after every change. Returns the function that stops the calls. */
  subscribe(listener: (state: AuthState) => void): () => void;
  /** The access token, or null if there is none or it has expired. */
  accessToken(): string | null;
  /** When the access token was received and expires; null if there is none. */
  lifetime(): AccessLifetime | null;
  /**
   * The refresh token, read afresh from storage each time: another tab may
   * have rotated it, or removed it by signing out.
   */
  refreshToken(): string | null;
  /** Keep the tokens of a sign-in or a refresh; ends restoring. */
  save(tokens: SessionTokens): void;
  /** Replace the signed-in user's details (from me, changePassword, …); ignored unless signed in as that user. */
  setUser(user: UserFields): void;
  /**
   * Note why restoring failed for now (offline, say): the state stays
   * restoring, with error, so a page can say so and offer to try again.
   */
  settle(error: TwostepError): void;
  /**
   * Forget both tokens. For otherTab the storage is left alone: the other
   * tab cleared it, and may since have stored a new sign-in's token. The
   * first reason stands until the next sign-in.
   */
  clear(reason: EndReason): void;
  /**
   * A number that changes with every save, clear and sign-in from another
   * tab, so a refresh that finishes after a sign-out can tell it is stale.
   */
  generation(): number;
  /**
   * Follow other tabs through `storage` events on target (window): a removed
   * refresh token signs this tab out (otherTab); a stored one while signed
   * out starts restoring (another tab signed in). Returns the function that
   * stops listening.
   */
  listen(target: EventTarget): () => void;
}

export interface TokenStoreOptions {
  /**
   * Where the refresh token is kept: localStorage in a browser. null keeps
   * it in memory only (a reload or a new tab then needs a new sign-in). A
   * storage that throws (disabled, full) makes the store fall back to memory.
   */
  storage?: TokenStorage | null;
  /** The storage key; default "twostep.refresh". */
  key?: string;
  now?: () => number;
}

/** createTokenStore returns a TokenStore; see TokenStoreOptions. */
export function createTokenStore({ storage = null, key = defaultStorageKey, now = Date.now }: TokenStoreOptions = {}): TokenStore {
  let usable = storage !== null;
  let access: (AccessLifetime & { token: string }) | null = null;
  let user: UserFields | null = null;
  let refreshExpiresAt: string | null = null;
  // The refresh token as this tab last knew it: whether there is a session,
  // and the token itself when storage is not usable.
  let refresh: string | null = null;
  refresh = read();
  let restoreError: TwostepError | null = null;
  let ended: EndReason | null = null;
  let generation = 0;
  let snapshot: AuthState = compute();
  const listeners = new Set<(state: AuthState) => void>();

  function read(): string | null {
    if (!usable) return refresh;
    try {
      return storage?.getItem(key) ?? null;
    } catch {
      usable = false;
      return refresh;
    }
  }

  function compute(): AuthState {
    if (access !== null && user !== null) {
      return { status: 'signedIn', user, expiresAt: access.expiresAt, refreshExpiresAt };
    }
    if (refresh !== null) return { status: 'restoring', error: restoreError };
    return { status: 'signedOut', reason: ended };
  }

  function changed() {
    const next = compute();
    if (!same(next, snapshot)) snapshot = next;
    for (const listener of [...listeners]) listener(snapshot);
  }

  function onStorage(e: Event) {
    const changedKey = (e as StorageEvent).key;
    // key is null when another tab called localStorage.clear().
    if (changedKey !== null && changedKey !== key) return;
    const stored = read();
    if (snapshot.status !== 'signedOut' && stored === null) {
      store.clear('otherTab');
    } else if (snapshot.status === 'signedOut' && stored !== null) {
      // Another tab signed in: restore from its token, as after a reload.
      generation++;
      refresh = stored;
      restoreError = null;
      ended = null;
      changed();
    }
  }

  const store: TokenStore = {
    state: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    accessToken() {
      return access !== null && access.expiresAt > now() ? access.token : null;
    },
    lifetime() {
      return access && { issuedAt: access.issuedAt, expiresAt: access.expiresAt };
    },
    refreshToken: read,
    save(tokens) {
      generation++;
      const t = now();
      access = { token: tokens.accessToken, issuedAt: t, expiresAt: t + tokens.expiresIn * 1000 };
      user = tokens.user;
      refreshExpiresAt = tokens.refreshExpiresAt ?? null;
      refresh = tokens.refreshToken;
      restoreError = null;
      ended = null;
      if (usable) {
        try {
          storage?.setItem(key, tokens.refreshToken);
        } catch {
          // Full or refused: from now on the token lives in memory only, and
          // an older one must not be left behind for the next load to use.
          usable = false;
          try {
            storage?.removeItem(key);
          } catch {
            // Nothing we can do; the server refuses a retired token anyway.
          }
        }
      }
      changed();
    },
    setUser(next) {
      if (snapshot.status !== 'signedIn' || user?.id !== next.id) return;
      user = next;
      changed();
    },
    settle(error) {
      if (snapshot.status !== 'restoring') return;
      restoreError = error;
      changed();
    },
    clear(reason) {
      generation++;
      if (refresh !== null || access !== null) ended = reason;
      access = null;
      user = null;
      refresh = null;
      refreshExpiresAt = null;
      restoreError = null;
      if (usable && reason !== 'otherTab') {
        try {
          storage?.removeItem(key);
        } catch {
          // Nothing stored that we could remove.
        }
      }
      changed();
    },
    generation: () => generation,
    listen(target) {
      target.addEventListener('storage', onStorage);
      return () => target.removeEventListener('storage', onStorage);
    },
  };
  return store;
}

function same(a: AuthState, b: AuthState): boolean {
  if (a.status !== b.status) return false;
  if (a.status === 'signedOut' && b.status === 'signedOut') return a.reason === b.reason;
  if (a.status === 'signedIn' && b.status === 'signedIn') {
    return a.user === b.user && a.expiresAt === b.expiresAt && a.refreshExpiresAt === b.refreshExpiresAt;
  }
  if (a.status === 'restoring' && b.status === 'restoring') return a.error === b.error;
  return true;
}

/** browserLocalStorage is localStorage if this environment has one and lets us use it, else null. */
export function browserLocalStorage(): TokenStorage | null {
  try {
    const w = globalThis as { window?: { localStorage?: TokenStorage } };
    return w.window?.localStorage ?? null;
  } catch {
    // Disabled (cookies blocked, some private modes) throws on access.
    return null;
  }
}

/** memoryStorage is a TokenStorage that lives in this object only (Node, tests). */
export function memoryStorage(): TokenStorage & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
  };
}
