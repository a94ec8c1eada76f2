// The twostep client: every operation of the flow as a method, with the
// session's tokens kept, refreshed and sent for you.
import { TwostepError, toTwostepError } from './errors.js';
import * as ops from './generated/operations.js';
import type {
  AuthFields,
  ChallengeFields,
  Operation,
  RequestPasswordResetResult,
  SecurityEventsResult,
  SessionFields,
  StartPhoneChangeResult,
  UserFields,
} from './generated/operations.js';
import type {
  ChangePasswordInput,
  ConfirmPhoneChangeInput,
  DeleteAccountInput,
  LoginInput,
  LogoutScope,
  RegisterInput,
  RequestPasswordResetInput,
  ResendOtpInput,
  ResetPasswordInput,
  StartPhoneChangeInput,
  VerifyOtpInput,
} from './generated/schema.js';
import { createRefresher, type Locks, type Refresher } from './refresh.js';
import { browserLocalStorage, createTokenStore, type AuthState, type EndReason, type TokenStorage, type TokenStore } from './store.js';
import { send, type SendOptions, type TransportOptions } from './transport.js';

export interface TwostepClientOptions {
  /** The GraphQL endpoint; default "/graphql" (same origin). */
  url?: string;
  /** default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Added to every request. */
  headers?: Record<string, string>;
  /**
   * Where the refresh token is kept. Default: localStorage where there is a
   * usable one (a browser), else memory only. null: memory only.
   */
  storage?: TokenStorage | null;
  /** The storage key; default "twostep.refresh". */
  storageKey?: string;
  /** A store of your own instead of storage and storageKey (tests, or sharing one store). */
  store?: TokenStore;
  /** Web Locks; default navigator.locks where there is one. null: none. */
  locks?: Locks | null;
  /**
   * Where other tabs' `storage` events arrive; default window where there is
   * one. null: do not follow other tabs.
   */
  events?: EventTarget | null;
  /** Give up on a request after this long (ms) with NETWORK_ERROR; default 30 000. A refresh: 15 000. */
  timeoutMs?: number;
  /** How long signOut waits for the server before ending the session here anyway (ms); default 5 000. */
  signOutTimeoutMs?: number;
  now?: () => number;
}

/** RequestOptions are per-call options. */
export interface RequestOptions {
  signal?: AbortSignal;
}

/**
 * TwostepClient speaks twostep's API. Every method rejects with a
 * TwostepError. Its methods do not use `this`: pass them around freely.
 *
 * Step tokens (mfaToken, resetToken, changeToken) are returned to you and
 * never stored: keep them in memory for the one screen that needs them.
 */
export interface TwostepClient {
  /** The token store: state, subscribe, and the rest. */
  readonly store: TokenStore;
  /** The current AuthState (store.state). */
  state(): AuthState;
  /** Call listener after every change of state (store.subscribe). */
  subscribe(listener: (state: AuthState) => void): () => void;
  /**
   * Start the background work: refresh ahead of expiry (at once for a stored
   * session), and follow other tabs' sign-in and sign-out. Returns the
   * function that stops it. Calls nest: each start needs its stop.
   */
  start(): () => void;
  /** An unexpired access token, refreshing first if needed; null when signed out. For calling other services. */
  accessToken(): Promise<string | null>;
  /** Send any operation (one of `operations`, or your own), with the token and the retry if it needs one. */
  request<R, V>(op: Operation<R, V>, variables: V, opts?: RequestOptions): Promise<R>;

  /** Create an account. Does not sign in. May reject with several errors (one per field). */
  register(input: RegisterInput, opts?: RequestOptions): Promise<{ user: UserFields }>;
  /** Check the password and send a code; returns the challenge (with its mfaToken) for verifyOtp. */
  login(input: LoginInput, opts?: RequestOptions): Promise<ChallengeFields>;
  /** Send the login's code again, through channel. */
  resendOtp(input: ResendOtpInput, opts?: RequestOptions): Promise<ChallengeFields>;
  /** Trade the code for a session: the client is signed in when this resolves. */
  verifyOtp(input: VerifyOtpInput, opts?: RequestOptions): Promise<{ user: UserFields }>;
  /** Refresh now (normally automatic); the new access token, or null if the session is over. */
  refreshSession(): Promise<string | null>;
  /**
   * End sessions on the server: this one (CURRENT, the default), the others,
   * or all. For CURRENT and ALL the session ends here too, whatever the
   * server answered; the promise still rejects if the server could not be
   * told. signOut is the same without the rejection.
   */
  logout(scope?: LogoutScope, opts?: RequestOptions): Promise<{ revokedSessions: number }>;
  /**
   * Sign out here, and on the server if it answers within signOutTimeoutMs.
   * Never rejects.
   */
  signOut(): Promise<void>;
  /** The signed-in user, read fresh (and kept in state). */
  me(opts?: RequestOptions): Promise<UserFields>;
  /** The signed-in user's live sessions, newest first. */
  sessions(opts?: RequestOptions): Promise<SessionFields[]>;
  /** End one of the user's sessions; revokedSessions is 0 if it is not theirs. For this session, use signOut. */
  revokeSession(input: { sessionId: string }, opts?: RequestOptions): Promise<{ revokedSessions: number }>;
  /** The user's own security events, newest first, a page at a time. */
  securityEvents(args?: { first?: number; after?: string | null }, opts?: RequestOptions): Promise<SecurityEventsResult['securityEvents']>;
  /** Start a password reset; the resetToken comes back for every email. */
  requestPasswordReset(input: RequestPasswordResetInput, opts?: RequestOptions): Promise<RequestPasswordResetResult['requestPasswordReset']>;
  /** Set a new password with the reset's code. Ends every session of the account; does not sign in. */
  resetPassword(input: ResetPasswordInput, opts?: RequestOptions): Promise<{ ok: boolean }>;
  /** Change the password; the user's other sessions end. */
  changePassword(input: ChangePasswordInput, opts?: RequestOptions): Promise<{ user: UserFields }>;
  /** Send a code to a new number; returns the changeToken for confirmPhoneChange. */
  startPhoneChange(input: StartPhoneChangeInput, opts?: RequestOptions): Promise<StartPhoneChangeResult['startPhoneChange']>;
  /** Make the new number the account's, with its code. */
  confirmPhoneChange(input: ConfirmPhoneChangeInput, opts?: RequestOptions): Promise<{ user: UserFields }>;
  /** Delete the account; the session ends here too (reason accountDeleted). */
  deleteAccount(input: DeleteAccountInput, opts?: RequestOptions): Promise<{ ok: boolean }>;
}

const refreshTimeoutMs = 15_000;

/** createTwostepClient returns a client; see TwostepClientOptions for the defaults. */
export function createTwostepClient(options: TwostepClientOptions = {}): TwostepClient {
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const transport: TransportOptions = { url: options.url ?? '/graphql', fetch: fetchImpl, headers: options.headers };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signOutTimeoutMs = options.signOutTimeoutMs ?? 5_000;
  const store =
    options.store ??
    createTokenStore({
      storage: options.storage === undefined ? browserLocalStorage() : options.storage,
      key: options.storageKey,
      now,
    });
  const locks = options.locks === undefined ? browserLocks() : options.locks;
  const events = options.events === undefined ? browserWindow() : options.events;

  // While the person's own sign-out is under way, a session that ends for
  // another reason (the server already ended it) ended by their sign-out.
  let signingOut = 0;
  const end = (reason: EndReason) => store.clear(signingOut > 0 ? 'signOut' : reason);

  const refresher: Refresher = createRefresher({
    store,
    end,
    locks,
    now,
    async send(refreshToken) {
      const data = await send(transport, ops.RefreshSession, { input: { refreshToken } }, { timeoutMs: refreshTimeoutMs });
      return data.refreshSession;
    },
  });

  const anonymous = <R, V>(op: Operation<R, V>, variables: V, opts: SendOptions = {}) =>
    send(transport, op, variables, { timeoutMs, ...opts });

  /**
   * authed sends op with an access token, refreshing first if there is
   * none. If the server still refuses it (UNAUTHENTICATED: it expired on the
   * way, or the server's keys changed), it refreshes once and sends once
   * more; a second refusal ends the session.
   */
  async function authed<R, V>(op: Operation<R, V>, variables: V, opts: SendOptions = {}): Promise<R> {
    const token = await refresher.accessToken();
    if (token === null) {
      throw new TwostepError([{ code: 'UNAUTHENTICATED', message: 'Not signed in.' }], { operationName: op.name });
    }
    try {
      return await anonymous(op, variables, { ...opts, token });
    } catch (err) {
      const first = toTwostepError(err);
      if (!first.has('UNAUTHENTICATED')) throw first;
      const fresh = await refresher.refresh(token);
      if (fresh === null) throw first;
      try {
        return await anonymous(op, variables, { ...opts, token: fresh });
      } catch (err2) {
        const second = toTwostepError(err2);
        if (second.has('UNAUTHENTICATED')) end('UNAUTHENTICATED');
        throw second;
      }
    }
  }

  function request<R, V>(op: Operation<R, V>, variables: V, opts: RequestOptions = {}): Promise<R> {
    return op.requiresAuth ? authed(op, variables, opts) : anonymous(op, variables, opts);
  }

  function keepUser<T extends { user: UserFields }>(payload: T): T {
    store.setUser(payload.user);
    return payload;
  }

  async function logout(scope: LogoutScope = 'CURRENT', opts: RequestOptions = {}) {
    if (scope === 'OTHERS') return (await authed(ops.Logout, { scope }, opts)).logout;
    if (store.state().status === 'signedOut') return { revokedSessions: 0 };
    signingOut++;
    try {
      return (await authed(ops.Logout, { scope }, { ...opts, timeoutMs: signOutTimeoutMs })).logout;
    } finally {
      signingOut--;
      store.clear('signOut');
    }
  }

  const client: TwostepClient = {
    store,
    state: store.state,
    subscribe: store.subscribe,
    start() {
      const stopRefresher = refresher.start();
      const stopListening = events ? store.listen(events) : () => {};
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        stopRefresher();
        stopListening();
      };
    },
    accessToken: () => refresher.accessToken(),
    request,

    async register(input, opts) {
      return (await request(ops.Register, { input }, opts)).register;
    },
    async login(input, opts) {
      return (await request(ops.Login, { input }, opts)).login;
    },
    async resendOtp(input, opts) {
      return (await request(ops.ResendOtp, { input }, opts)).resendOtp;
    },
    async verifyOtp(input, opts) {
      const payload: AuthFields = (await request(ops.VerifyOtp, { input }, opts)).verifyOtp;
      store.save(payload);
      return { user: payload.user };
    },
    refreshSession: () => refresher.refresh(),
    logout,
    async signOut() {
      await logout('CURRENT').catch(() => undefined);
    },
    async me(opts) {
      const { me } = await request(ops.Me, {}, opts);
      store.setUser(me);
      return me;
    },
    async sessions(opts) {
      return (await request(ops.Sessions, {}, opts)).sessions;
    },
    async revokeSession(input, opts) {
      return (await request(ops.RevokeSession, { input }, opts)).revokeSession;
    },
    async securityEvents(args = {}, opts) {
      const variables: { first?: number; after?: string | null } = {};
      if (args.first !== undefined) variables.first = args.first;
      if (args.after != null) variables.after = args.after;
      return (await request(ops.SecurityEvents, variables, opts)).securityEvents;
    },
    async requestPasswordReset(input, opts) {
      return (await request(ops.RequestPasswordReset, { input }, opts)).requestPasswordReset;
    },
    async resetPassword(input, opts) {
      return (await request(ops.ResetPassword, { input }, opts)).resetPassword;
    },
    async changePassword(input, opts) {
      return keepUser((await request(ops.ChangePassword, { input }, opts)).changePassword);
    },
    async startPhoneChange(input, opts) {
      return (await request(ops.StartPhoneChange, { input }, opts)).startPhoneChange;
    },
    async confirmPhoneChange(input, opts) {
      return keepUser((await request(ops.ConfirmPhoneChange, { input }, opts)).confirmPhoneChange);
    },
    async deleteAccount(input, opts) {
      const payload = (await request(ops.DeleteAccount, { input }, opts)).deleteAccount;
      if (payload.ok) end('accountDeleted');
      return payload;
    },
  };
  return client;
}

function browserLocks(): Locks | null {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  const locks = nav?.locks;
  return locks && typeof locks.request === 'function' ? { request: (name, cb) => locks.request(name, cb) } : null;
}

function browserWindow(): EventTarget | null {
  const w = (globalThis as { window?: EventTarget }).window;
  return w && typeof w.addEventListener === 'function' ? w : null;
}
