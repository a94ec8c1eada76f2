// Keeping the access token fresh: one refresh at a time, across tabs.
//
// Every tab has its own access token (memory only) and all share one refresh
// token (localStorage). Refreshing spends the refresh token, so two tabs
// must not refresh with the same one: each refresh runs under a Web Lock and
// reads the token afresh inside it, so the second tab uses the token the
// first one stored. Without Web Locks the server's short reuse interval
// (10 s) forgives the race.
import { toTwostepError, type TwostepError } from './errors.js';
import type { EndReason, SessionTokens, TokenStore } from './store.js';

/** Locks is the part of the Web Locks API (navigator.locks) used here. */
export interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** lockName is the Web Lock every tab of the origin takes to refresh. */
export const lockName = 'twostep.refresh';

// Refreshing sooner than this after the last token arrived would be a loop
// in all but name; a token that short-lived is refreshed when it is needed.
const minDelay = 5_000;
const maxBackoff = 60_000;

/**
 * refreshDelay is how long after receiving an access token that lives
 * lifetimeMs to refresh it: a minute before it expires, or, for tokens that
 * live under three minutes, a third of its life before (a 15-minute token
 * at 14 minutes, a 12-second one at 8 seconds), and never within 5 seconds.
 */
export function refreshDelay(lifetimeMs: number): number {
  return Math.max(minDelay, lifetimeMs - Math.min(60_000, lifetimeMs / 3));
}

/**
 * retryDelay is how long to wait after the nth refresh in a row failed for
 * a reason that may pass: 2 s, 4 s, 8 s… up to a minute, or longer if the
 * server said how long (retryAfter, in seconds).
 */
export function retryDelay(failures: number, retryAfter?: number): number {
  const backoff = Math.min(maxBackoff, 2_000 * 2 ** Math.max(0, failures - 1));
  return Math.max(backoff, (retryAfter ?? 0) * 1000);
}

export interface RefresherOptions {
  store: TokenStore;
  /** Sends refreshSession; rejects with a TwostepError. */
  send(refreshToken: string): Promise<SessionTokens>;
  /** Ends the session (store.clear, unless the caller knows better). */
  end?(reason: EndReason): void;
  /** navigator.locks, or null where there is none. */
  locks?: Locks | null;
  now?: () => number;
}

/** Refresher gets access tokens and refreshes them ahead of time. */
export interface Refresher {
  /**
   * An unexpired access token, refreshing first if there is none. Null when
   * signed out, or when the refresh found the session over (the store is
   * then cleared). Rejects with a TwostepError if the refresh failed for a
   * reason that may pass.
   */
  accessToken(): Promise<string | null>;
  /**
   * A new access token, because the server refused rejected. If the store
   * already holds a different one (a refresh that ran meanwhile), that one.
   * Null and rejections as for accessToken.
   */
  refresh(rejected?: string): Promise<string | null>;
  /** Start refreshing ahead of expiry. Returns the function that stops it. */
  start(): () => void;
}

/** createRefresher returns a Refresher for store's tokens. */
export function createRefresher({ store, send, end = store.clear, locks = null, now = Date.now }: RefresherOptions): Refresher {
  let inflight: Promise<string | null> | null = null;
  let failures = 0;
  let retryAfter: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = 0;

  function refresh(rejected?: string): Promise<string | null> {
    const current = store.accessToken();
    if (current !== null && rejected !== undefined && current !== rejected) return Promise.resolve(current);
    inflight ??= (locks ? locks.request(lockName, exchange) : exchange()).finally(() => {
      inflight = null;
    });
    return inflight;
  }

  // exchange trades the stored refresh token for new tokens. It runs inside
  // the lock, and stores the new refresh token before the lock is released.
  async function exchange(): Promise<string | null> {
    const generation = store.generation();
    let sent = store.refreshToken();
    for (let tries = 0; ; tries++) {
      if (sent === null) {
        // Another tab signed out while we waited; its storage event may
        // not have arrived yet.
        if (store.state().status !== 'signedOut') end('otherTab');
        return null;
      }
      try {
        const tokens = await send(sent);
        // Signed out (or in again) meanwhile: these tokens belong to a
        // session this tab has left.
        if (store.generation() !== generation) return store.accessToken();
        failures = 0;
        store.save(tokens);
        return tokens.accessToken;
      } catch (err) {
        if (store.generation() !== generation) return store.accessToken();
        const e = toTwostepError(err);
        if (!e.has('REFRESH_TOKEN_INVALID')) {
          failed(e);
          throw e;
        }
        // A tab that refreshed without a lock may have stored the next token
        // while ours was on its way: try that one, once.
        const stored = store.refreshToken();
        if (tries === 0 && stored !== null && stored !== sent) {
          sent = stored;
          continue;
        }
        end('REFRESH_TOKEN_INVALID');
        return null;
      }
    }
  }

  // failed keeps the refresh token (offline, rate limited, the server
  // briefly down) and tries again later, waiting longer each time.
  function failed(e: TwostepError) {
    failures++;
    retryAfter = e.retryAfter;
    store.settle(e);
    plan();
  }

  // plan sets the one timer: the next refresh ahead of expiry, a retry
  // after a failure, or at once for a session restored from storage.
  function plan() {
    clearTimeout(timer);
    timer = undefined;
    if (running === 0) return;
    if (store.state().status === 'signedOut') {
      failures = 0;
      return;
    }
    let delay = 0;
    const life = store.lifetime();
    if (failures > 0) delay = retryDelay(failures, retryAfter);
    else if (life !== null) delay = life.issuedAt + refreshDelay(life.expiresAt - life.issuedAt) - now();
    timer = setTimeout(() => {
      timer = undefined;
      // A failure is already counted and planned for by failed().
      refresh().catch(() => {});
    }, Math.max(0, delay));
  }

  return {
    async accessToken() {
      const token = store.accessToken();
      if (token !== null) return token;
      if (store.state().status === 'signedOut') return null;
      return refresh();
    },
    refresh,
    start() {
      running++;
      const unsubscribe = store.subscribe(plan);
      plan();
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        running--;
        unsubscribe();
        plan();
      };
    },
  };
}
