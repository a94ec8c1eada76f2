import { errorMessage } from '@twostep/client';
import { useTwostepQuery } from '@twostep/client/react';
import { Link } from 'react-router';
import { useFlow } from '../flow';
import { FormAlert, Page } from '../ui';
import { RequireSession } from './RequireSession';
import { UserFacts } from './UserFacts';

/**
 * Welcome is the signed-in page: it proves the session works by asking for
 * "me". RequireSession sends the person to sign in once the session is gone.
 */
export function Welcome() {
  return (
    <RequireSession>
      <Overview />
    </RequireSession>
  );
}

function Overview() {
  const { signOut, signingOut } = useFlow();
  // Read fresh from the server, as the schema promises: a revoked session
  // shows up here, not behind a stale copy.
  const { data: user, error, loading, refetch } = useTwostepQuery((c) => c.me());
  return (
    <Page title="Welcome">
      <div role="status">{loading && !user && <p>Loading your account…</p>}</div>
      <FormAlert>
        {/* An ended session never shows here: RequireSession is already on its way to the sign-in page. */}
        {error && error.code !== 'UNAUTHENTICATED' && (
          <>
            {errorMessage(error)}{' '}
            <button type="button" className="link" onClick={() => void refetch()}>
              Try again
            </button>
          </>
        )}
      </FormAlert>
      {user && (
        <>
          <p>
            You are signed in as <strong>{user.email}</strong>.
          </p>
          {/* Masked, as the code page shows it: this page is the one left open on a screen. */}
          <UserFacts user={user} masked />
        </>
      )}
      <p>
        <Link to="/sessions">Your sessions</Link>: where you are signed in, and signing out elsewhere.
      </p>
      <p>
        <Link to="/activity">Recent activity</Link>: sign-ins, codes sent and changes to your account.
      </p>
      <p>
        <Link to="/account">Your account</Link>: change your password or phone number, or delete the account.
      </p>
      <button type="button" aria-disabled={signingOut || undefined} onClick={() => !signingOut && void signOut()}>
        {signingOut ? 'Signing out…' : 'Sign out'}
      </button>
    </Page>
  );
}
