import { useQuery } from '@apollo/client/react';
import { Link, useLocation } from 'react-router';
import { problemsOf } from '../errors';
import { ME } from '../graphql';
import { FormAlert, Notice, Page } from '../ui';
import { type NavState } from './nav';
import { RequireSession } from './RequireSession';
import { UserFacts } from './UserFacts';

/**
 * Account is where a signed-in person changes their password or phone
 * number, or deletes the account; each has a page of its own, which comes
 * back here with its news.
 */
export function Account() {
  return (
    <RequireSession>
      <Settings />
    </RequireSession>
  );
}

function Settings() {
  const state = useLocation().state as NavState | null;
  // network-only: after a change, the account as the server now has it.
  const { data, error, loading, refetch } = useQuery(ME, { fetchPolicy: 'network-only' });
  const problem = error ? problemsOf(error)[0] : undefined;
  const user = data?.me;
  return (
    <Page title="Your account">
      <Notice>{state?.notice}</Notice>
      <div role="status">{loading && !user && <p>Loading your account…</p>}</div>
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
            Signed in as <strong>{user.email}</strong>.
          </p>
          <UserFacts user={user} />
        </>
      )}
      <ul className="links">
        <li>
          <Link to="/account/password">Change password</Link>
        </li>
        <li>
          <Link to="/account/phone">Change phone number</Link>
        </li>
        <li>
          <Link to="/account/delete">Delete account</Link>
        </li>
      </ul>
      <p>
        <Link to="/welcome">Back to the welcome page</Link>
      </p>
    </Page>
  );
}
