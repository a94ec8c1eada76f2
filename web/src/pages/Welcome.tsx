import { useQuery } from '@apollo/client/react';
import { useEffect } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { useAuth } from '../auth';
import { hasCode, problemsOf } from '../errors';
import { ME } from '../graphql';
import { FormAlert, Page } from '../ui';
import { type NavState } from './nav';

/** Welcome is the signed-in page: it proves the token works by asking for "me". */
export function Welcome() {
  const { isSignedIn } = useAuth();
  if (!isSignedIn()) {
    const state: NavState = { notice: 'Sign in to see your account.' };
    return <Navigate to="/login" replace state={state} />;
  }
  return <Account />;
}

function Account() {
  const navigate = useNavigate();
  const { signOut } = useAuth();
  // network-only: "me" is read fresh from the server, as the schema promises,
  // and a revoked or expired token shows up here rather than in a stale cache.
  const { data, error, loading, refetch } = useQuery(ME, { fetchPolicy: 'network-only' });
  const problems = error ? problemsOf(error) : [];
  const unauthenticated = hasCode(problems, 'UNAUTHENTICATED');

  useEffect(() => {
    if (!unauthenticated) return;
    const state: NavState = { notice: 'Your session has ended. Sign in again.' };
    navigate('/login', { replace: true, state });
    void signOut();
  }, [unauthenticated, signOut, navigate]);

  function onSignOut() {
    const state: NavState = { notice: 'You have signed out.' };
    // Leave first: clearing the session while this page is still mounted
    // would re-render it as signed out and redirect with the wrong notice.
    navigate('/login', { replace: true, state });
    void signOut();
  }

  const user = data?.me;
  return (
    <Page title="Welcome">
      <div role="status">{loading && <p>Loading your account…</p>}</div>
      <FormAlert>
        {error && !unauthenticated && (
          <>
            {problems[0]?.message}{' '}
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
          <dl className="facts">
            <dt>Phone</dt>
            <dd>
              {user.phone} {user.phoneVerified ? '(verified)' : '(not verified)'}
            </dd>
            <dt>Member since</dt>
            <dd>
              <time dateTime={user.createdAt}>{new Date(user.createdAt).toLocaleDateString()}</time>
            </dd>
          </dl>
        </>
      )}
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </Page>
  );
}
