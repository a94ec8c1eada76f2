// The steps in progress, which the SDK hands back and never stores.
//
// A login's mfaToken and a password reset's resetToken are each needed by
// one screen, so they live in React state only: never in storage, the URL
// or history state, and a reload drops them (the person starts that step
// again and gets a new code). The session itself is the SDK's
// (@twostep/client): its tokens, refreshes and state.
import { useTwostep, type Twostep } from '@twostep/client/react';
import type { Challenge as LoginChallenge, TwostepClient } from '@twostep/client';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** Challenge is a login step that is waiting for its code. */
export type Challenge = LoginChallenge & {
  /** So that starting over does not mean typing it again. */
  email: string;
  /** When the code last went out, by this browser's clock (ms): the resend cooldown counts from it. */
  sentAt: number;
};

/** Reset is a password reset waiting for its code and the new password. */
export type Reset = Awaited<ReturnType<TwostepClient['requestPasswordReset']>> & {
  /** Shown on the code page, and kept for starting over. */
  email: string;
};

interface Flow {
  challenge: Challenge | null;
  /** Start the code step, or update it after the code was sent again. */
  startChallenge(c: Challenge): void;
  endChallenge(): void;
  reset: Reset | null;
  startReset(r: Reset): void;
  endReset(): void;
  /** Whether the person asked to sign out here and it is under way (the button says so). */
  signingOut: boolean;
  /** Sign out on the server (waiting a few seconds at most), then here; never rejects. */
  signOut(): Promise<void>;
}

const FlowContext = createContext<Flow | null>(null);

/** FlowProvider holds the steps in progress; it goes inside the SDK's TwostepProvider. */
export function FlowProvider({ children }: { children: ReactNode }) {
  const twostep: Twostep = useTwostep();
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [reset, setReset] = useState<Reset | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const { status } = twostep;
  const clientSignOut = twostep.signOut;

  // A new sign-in: the earlier sign-out is over.
  useEffect(() => {
    if (status === 'signedIn') setSigningOut(false);
  }, [status]);

  const signOut = useCallback(async () => {
    setSigningOut(true);
    await clientSignOut();
  }, [clientSignOut]);
  const endChallenge = useCallback(() => setChallenge(null), []);
  const endReset = useCallback(() => setReset(null), []);

  const value = useMemo<Flow>(
    () => ({ challenge, startChallenge: setChallenge, endChallenge, reset, startReset: setReset, endReset, signingOut, signOut }),
    [challenge, endChallenge, reset, endReset, signingOut, signOut],
  );
  return <FlowContext.Provider value={value}>{children}</FlowContext.Provider>;
}

export function useFlow(): Flow {
  const flow = useContext(FlowContext);
  if (!flow) throw new Error('useFlow: no FlowProvider above this component');
  return flow;
}
