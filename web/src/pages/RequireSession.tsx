import { useState, type ReactNode } from 'react';
import { Navigate } from 'react-router';
import { useAuth } from '../auth';
import { messageFor } from '../errors';
import type { EndReason } from '../session';
import { Loading } from '../ui';
import { type NavState } from './nav';

/**
 * RequireSession renders children for a signed-in person. While a stored
 * session is being restored it shows a neutral loading state; without a
 * session, or once it ends however it ends, it sends the person to sign in,
 * saying why.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const { status, ended, signingOut } = useAuth();
  const [arrivedWithSession] = useState(status !== 'signedOut');
  if (status === 'restoring') return <Loading />;
  if (status === 'signedOut') {
    const state: NavState = { notice: arrivedWithSession || signingOut ? noticeFor(ended, signingOut) : 'Sign in to see your account.' };
    return <Navigate to="/login" replace state={state} />;
  }
  return children;
}

function noticeFor(ended: EndReason | null, signingOut: boolean): string {
  // The person's own click wins over whatever the server said meanwhile.
  if (signingOut || ended === 'signOut') return 'You have signed out.';
  if (ended === 'otherTab') return 'You signed out in another tab.';
  if (ended === 'accountDeleted') return 'Your account was deleted, and you are signed out.';
  if (ended === null) return 'Sign in to see your account.';
  return messageFor({ code: ended });
}
