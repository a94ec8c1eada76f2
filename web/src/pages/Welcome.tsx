import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { Navigate } from 'react-router';
import { useAuth } from '../auth';
import { hasCode, messageFor, problemsOf } from '../errors';
import { ME } from '../graphql';
import { FormAlert, Page } from '../ui';
import { type NavState } from './nav';

/**
 * Welcome is the signed-in page: it proves the token works by asking for "me".
 * Whenever the session is gone, however it ended, it sends the person to sign
 * in, saying why.
 */
export function Welcome() {
  const { signedIn, signOut } = useAuth();
  const [arrivedSignedIn] = useState(signedIn);
  // Set in the same click as the sign-out, so the render that sees the
  // session gone also knows the person asked for it.
  const [signingOut, setSigningOut] = useState(false);
  if (!signedIn) {
    let notice = 'Sign in to see your account.';
    if (signingOut) notice = 'You have signed out.';
    else if (arrivedSignedIn) notice = messageFor({ code: 'UNAUTHENTICATED' });
    const state: NavState = { notice };
    return <Navigate to="/login" replace state={state} />;
  }
  return (
    <Account
      onSignOut={() => {
        setSigningOut(true);
        void signOut();
      }}
    />
  );
}

function Account({ onSignOut }: { onSignOut(): void }) {
  const { signOut } = useAuth();
  // network-only: "me" is read fresh from the server, as the schema promises,
  // and a revoked or expired token shows up here rather than in a stale cache.
  const { data, error, loading, refetch } = useQuery(ME, { fetchPolicy: 'network-only' });
  const problems = error ? problemsOf(error) : [];
  const unauthenticated = hasCode(problems, 'UNAUTHENTICATED');

  // Welcome sees the session end and redirects.
  useEffect(() => {
    if (unauthenticated) void signOut();
  }, [unauthenticated, signOut]);

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
