import { useQuery } from '@apollo/client/react';
import { Link } from 'react-router';
import { useAuth } from '../auth';
import { problemsOf } from '../errors';
import { ME } from '../graphql';
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
  const { signOut, signingOut } = useAuth();
  // network-only: "me" is read fresh from the server, as the schema promises,
  // and a revoked session shows up here rather than behind a stale cache.
  const { data, error, loading, refetch } = useQuery(ME, { fetchPolicy: 'network-only' });
  // An ended session never shows here: the link has cleared the store, and
  // RequireSession is already on its way to the sign-in page.
  const problem = error ? problemsOf(error)[0] : undefined;

  const user = data?.me;
  return (
    <Page title="Welcome">
      <div role="status">{loading && <p>Loading your account…</p>}</div>
      <FormAlert>
        {problem && problem.code !== 'UNAUTHENTICATED' && (
          <>
            {problem.message}{' '}
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
          <UserFacts user={user} />
        </>
      )}
      <p>
        <Link to="/sessions">Your sessions</Link>: where you are signed in, and signing out elsewhere.
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
