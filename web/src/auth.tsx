// Who is signing in, and who is signed in.
//
// The login step's mfaToken, and a password reset's resetToken, are kept in
// React state only: each is needed for one screen, so it is never written to
// storage or the URL, and a reload drops it (the person starts that step
// again and gets a new code). The session's
// tokens go to the SessionStore (access token in memory, refresh token in
// localStorage), which lives outside React; its status is read with
// useSyncExternalStore, so a session that ends anywhere (a refresh the
// server refused, another tab signing out) re-renders.
import { useApolloClient } from '@apollo/client/react';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { LOGOUT, type LoginPayload, type PasswordReset, type Tokens } from './graphql';
import type { Refresher } from './refresh';
import type { EndReason, SessionStatus, SessionStore } from './session';

/** Challenge is a login step that is waiting for its code. */
export type Challenge = Pick<LoginPayload, 'mfaToken' | 'channel' | 'sentTo' | 'expiresAt'> & {
  /** So that starting over does not mean typing it again. */
  email: string;
  /** When the code last went out, by this browser's clock (ms): the resend cooldown counts from it. */
  sentAt: number;
};

/** Reset is a password reset waiting for its code and the new password. */
export type Reset = PasswordReset & {
  /** Shown on the code page, and kept for starting over. */
  email: string;
};

interface Auth {
  challenge: Challenge | null;
  /** Start the code step, or update it after the code was sent again. */
  startChallenge(c: Challenge): void;
  endChallenge(): void;
  reset: Reset | null;
  startReset(r: Reset): void;
  endReset(): void;
  /** signedOut, restoring (a stored session whose first refresh is pending) or signedIn. */
  status: SessionStatus;
  /** Why the last session ended, while signed out. */
  ended: EndReason | null;
  /** Whether the person asked to sign out (set at the click, before the session is gone). */
  signingOut: boolean;
  /** Keep the tokens from verifyOtp; ends the challenge. */
  signIn(tokens: Tokens): void;
  /** End the session on the server (waiting a few seconds at most), then forget it here. */
  signOut(): Promise<void>;
  /** Forget the session of an account the server has just deleted (there is nothing left to log out of). */
  accountDeleted(): void;
}

// Sign-out must not hang on a server that does not answer: the local
// session ends after this long whatever happened to the logout call.
const signOutWaitMs = 5_000;

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ session, refresher, children }: { session: SessionStore; refresher: Refresher; children: ReactNode }) {
  const client = useApolloClient();
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [reset, setReset] = useState<Reset | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const { status, ended } = useSyncExternalStore(session.subscribe, session.snapshot);

  useEffect(() => refresher.start(), [refresher]);

  // However the session ended, answers fetched with it must not outlive it.
  // clearStore, not resetStore: refetching without a session would only
  // produce UNAUTHENTICATED errors.
  const wasSignedOut = useRef(status === 'signedOut');
  useEffect(() => {
    const signedOut = status === 'signedOut';
    if (signedOut && !wasSignedOut.current) void client.clearStore();
    wasSignedOut.current = signedOut;
  }, [status, client]);

  const signIn = useCallback(
    (tokens: Tokens) => {
      session.save(tokens);
      setChallenge(null);
      setSigningOut(false);
    },
    [session],
  );
  const signOut = useCallback(async () => {
    setSigningOut(true);
    // The server first, so that a copy of the refresh token dies too. If it
    // cannot be reached, the session still ends here.
    const logout = client.mutate({ mutation: LOGOUT, variables: { scope: 'CURRENT' } }).catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([logout, new Promise((resolve) => (timer = setTimeout(resolve, signOutWaitMs)))]);
    clearTimeout(timer);
    session.clear('signOut');
  }, [session, client]);

  const accountDeleted = useCallback(() => session.clear('accountDeleted'), [session]);

  const endChallenge = useCallback(() => setChallenge(null), []);
  const endReset = useCallback(() => setReset(null), []);
  const value = useMemo<Auth>(
    () => ({
      challenge,
      startChallenge: setChallenge,
      endChallenge,
      reset,
      startReset: setReset,
      endReset,
      status,
      ended,
      signingOut,
      signIn,
      signOut,
      accountDeleted,
    }),
    [challenge, endChallenge, reset, endReset, status, ended, signingOut, signIn, signOut, accountDeleted],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth: no AuthProvider above this component');
  return auth;
}
