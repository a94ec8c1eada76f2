// @twostep/client/react: the client in React. The session lives outside
// React, in the client's token store; components read it through
// useSyncExternalStore, so a session that ends anywhere (a refresh the
// server refused, another tab signing out) re-renders them.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type DependencyList,
  type ReactNode,
} from 'react';
import type { TwostepClient } from './client.js';
import { toTwostepError, type TwostepError } from './errors.js';
import type { UserFields } from './generated/operations.js';
import type { AuthState, SignedOutState } from './store.js';

const ClientContext = createContext<TwostepClient | null>(null);

export interface TwostepProviderProps {
  client: TwostepClient;
  /**
   * Run client.start() while mounted (refresh ahead of expiry, follow other
   * tabs); default true. Turn it off if something else starts the client.
   */
  autoStart?: boolean;
  children?: ReactNode;
}

/** TwostepProvider makes client available to useTwostep and the guards below it. */
export function TwostepProvider({ client, autoStart = true, children }: TwostepProviderProps) {
  useEffect(() => (autoStart ? client.start() : undefined), [client, autoStart]);
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

/** useTwostepClient returns the provider's client; it throws outside a TwostepProvider. */
export function useTwostepClient(): TwostepClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('@twostep/client/react: no TwostepProvider above this component');
  return client;
}

/** useAuthState returns the client's AuthState, re-rendering when it changes. */
export function useAuthState(): AuthState {
  const client = useTwostepClient();
  return useSyncExternalStore(client.subscribe, client.state, client.state);
}

type Actions = Pick<
  TwostepClient,
  | 'register'
  | 'login'
  | 'resendOtp'
  | 'verifyOtp'
  | 'refreshSession'
  | 'logout'
  | 'signOut'
  | 'me'
  | 'sessions'
  | 'revokeSession'
  | 'securityEvents'
  | 'requestPasswordReset'
  | 'resetPassword'
  | 'changePassword'
  | 'startPhoneChange'
  | 'confirmPhoneChange'
  | 'deleteAccount'
>;

/** Twostep is what useTwostep returns: the state, who is signed in, and every action of the client. */
export interface Twostep extends Actions {
  client: TwostepClient;
  state: AuthState;
  status: AuthState['status'];
  /** The signed-in user, or null unless signedIn. */
  user: UserFields | null;
}

/** useTwostep returns the session's state and the client's actions (which reject with TwostepError). */
export function useTwostep(): Twostep {
  const client = useTwostepClient();
  const state = useAuthState();
  return useMemo(
    () => ({
      client,
      state,
      status: state.status,
      user: state.status === 'signedIn' ? state.user : null,
      register: client.register,
      login: client.login,
      resendOtp: client.resendOtp,
      verifyOtp: client.verifyOtp,
      refreshSession: client.refreshSession,
      logout: client.logout,
      signOut: client.signOut,
      me: client.me,
      sessions: client.sessions,
      revokeSession: client.revokeSession,
      securityEvents: client.securityEvents,
      requestPasswordReset: client.requestPasswordReset,
      resetPassword: client.resetPassword,
      changePassword: client.changePassword,
      startPhoneChange: client.startPhoneChange,
      confirmPhoneChange: client.confirmPhoneChange,
      deleteAccount: client.deleteAccount,
    }),
    [client, state],
  );
}

export interface SignedInProps {
  /** Shown to a signed-in person. */
  children?: ReactNode;
  /**
   * Shown without a session: an element, or a function of the signed-out
   * state (its reason says why the last session ended, to redirect with a
   * notice).
   */
  fallback?: ReactNode | ((state: SignedOutState) => ReactNode);
  /**
   * Shown while a stored session is being restored (never the fallback,
   * never the children); a function receives the state, whose error says
   * why the last try failed. Default: nothing.
   */
  restoring?: ReactNode | ((state: Extract<AuthState, { status: 'restoring' }>) => ReactNode);
}

/** SignedIn guards a signed-in route: children when signed in, restoring while restoring, fallback otherwise. */
export function SignedIn({ children, fallback = null, restoring = null }: SignedInProps) {
  const state = useAuthState();
  if (state.status === 'signedIn') return <>{children}</>;
  if (state.status === 'restoring') return <>{typeof restoring === 'function' ? restoring(state) : restoring}</>;
  return <>{typeof fallback === 'function' ? fallback(state) : fallback}</>;
}

/** SignedOut renders children only without a session (a sign-in link, say). */
export function SignedOut({ children }: { children?: ReactNode }) {
  const state = useAuthState();
  return state.status === 'signedOut' ? <>{children}</> : null;
}

/** QueryState is what useTwostepQuery returns. */
export interface QueryState<T> {
  /** The last answer, kept while loading again; undefined before the first. */
  data: T | undefined;
  /** Why the last try failed, or null. */
  error: TwostepError | null;
  loading: boolean;
  /**
   * Ask again. The promise resolves once that call has settled (its answer
   * or error shown, unless a newer call started meanwhile); it never rejects.
   */
  refetch(): Promise<void>;
}

/**
 * useTwostepQuery calls query(client) on mount, whenever deps change, and on
 * refetch, and keeps the latest answer; an answer that arrives after a newer
 * call started, or after unmount, is dropped.
 *
 *   const { data: me, error, loading } = useTwostepQuery((c) => c.me());
 *
 * `await refetch()` waits for the new answer: after a mutation, show its
 * news once the list reflects it.
 */
export function useTwostepQuery<T>(query: (client: TwostepClient) => Promise<T>, deps: DependencyList = []): QueryState<T> {
  const client = useTwostepClient();
  const [tick, setTick] = useState(0);
  // Callers of refetch waiting for the call their tick starts.
  const waiting = useRef<(() => void)[]>([]);
  const [state, setState] = useState<{ data: T | undefined; error: TwostepError | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  useEffect(() => {
    let live = true;
    const settled = waiting.current.splice(0);
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    query(client)
      .then(
        (data) => live && setState({ data, error: null, loading: false }),
        (err: unknown) => live && setState((s) => ({ data: s.data, error: toTwostepError(err), loading: false })),
      )
      .finally(() => settled.forEach((resolve) => resolve()));
    return () => {
      live = false;
    };
    // query is usually an inline function: deps say when it means something new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, tick, ...deps]);
  const refetch = useCallback(
    () =>
      new Promise<void>((resolve) => {
        waiting.current.push(resolve);
        setTick((t) => t + 1);
      }),
    [],
  );
  return { ...state, refetch };
}
