// Who is signing in, and who is signed in.
//
// The login step's mfaToken is kept in React state only: it is needed for
// one screen, so it is never written to storage or the URL, and a reload
// drops it (the person signs in again and gets a new code). The access token
// goes to the SessionStore (memory + sessionStorage), which lives outside
// React; signedIn is read from it with useSyncExternalStore, so a clear from
// anywhere (the Apollo link finding the token expired, say) re-renders.
import { useApolloClient } from '@apollo/client/react';
import { createContext, useCallback, useContext, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { LoginPayload } from './graphql';
import type { SessionStore } from './session';

/** Challenge is a login step that is waiting for its code. */
export type Challenge = Pick<LoginPayload, 'mfaToken' | 'sentTo' | 'expiresAt'> & {
  /** So that starting over does not mean typing it again. */
  email: string;
};

interface Auth {
  challenge: Challenge | null;
  startChallenge(c: Challenge): void;
  endChallenge(): void;
  /** Whether the session store holds an unexpired access token. */
  signedIn: boolean;
  /** Keep the access token from verifyOtp; ends the challenge. */
  signIn(accessToken: string, expiresIn: number): void;
  /** Forget the token and every cached answer fetched with it. */
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ session, children }: { session: SessionStore; children: ReactNode }) {
  const client = useApolloClient();
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const signedIn = useSyncExternalStore(session.subscribe, session.signedIn);

  const signIn = useCallback(
    (accessToken: string, expiresIn: number) => {
      session.save(accessToken, expiresIn);
      setChallenge(null);
    },
    [session],
  );
  const signOut = useCallback(async () => {
    session.clear();
    // clearStore, not resetStore: refetching "me" without a token would only
    // produce UNAUTHENTICATED errors.
    await client.clearStore();
  }, [session, client]);

  const endChallenge = useCallback(() => setChallenge(null), []);
  const value = useMemo<Auth>(
    () => ({
      challenge,
      startChallenge: setChallenge,
      endChallenge,
      signedIn,
      signIn,
      signOut,
    }),
    [challenge, endChallenge, signedIn, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth: no AuthProvider above this component');
  return auth;
}
