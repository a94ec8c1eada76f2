import { errorMessage, messageFor, type EndReason, type TwostepError } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useState, type ReactNode } from 'react';
import { Navigate } from 'react-router';
import { FormAlert, Loading } from '../ui';
import { type NavState } from './nav';

/**
 * RequireSession renders children for a signed-in person. While a stored
 * session is being restored it shows a neutral loading state (or, if the
 * server could not be reached, says so with a way to try again); without a
 * session, or once it ends however it ends, it sends the person to sign in,
 * saying why.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const { state } = useTwostep();
  const [arrivedWithSession] = useState(state.status !== 'signedOut');
  if (state.status === 'restoring') return state.error ? <RestoreFailed error={state.error} /> : <Loading />;
  if (state.status === 'signedOut') {
    const navState: NavState = { notice: arrivedWithSession ? noticeFor(state.reason) : 'Sign in to see your account.' };
    return <Navigate to="/login" replace state={navState} />;
  }
  return children;
}

function noticeFor(reason: EndReason | null): string {
  switch (reason) {
    case 'signOut':
      return 'You have signed out.';
    case 'otherTab':
      return 'You signed out in another tab.';
    case 'accountDeleted':
      return 'Your account was deleted, and you are signed out.';
    case null:
      return 'Sign in to see your account.';
    default:
      return messageFor({ code: reason });
  }
}

/**
 * RestoreFailed is a stored session whose refresh failed for a reason that
 * may pass (offline, the server briefly down): the session is kept, the SDK
 * tries again by itself, and the person can too.
 */
function RestoreFailed({ error }: { error: TwostepError }) {
  const { refreshSession } = useTwostep();
  const [trying, setTrying] = useState(false);
  async function again() {
    if (trying) return;
    setTrying(true);
    // A failure is the state's new error, shown here.
    await refreshSession().catch(() => undefined);
    setTrying(false);
  }
  return (
    <main className="page">
      <FormAlert>
        {errorMessage(error)}{' '}
        <button type="button" className="link" aria-disabled={trying || undefined} onClick={() => void again()}>
          {trying ? 'Trying again…' : 'Try again'}
        </button>
      </FormAlert>
    </main>
  );
}
