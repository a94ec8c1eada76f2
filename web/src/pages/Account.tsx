import { errorMessage } from '@twostep/client';
import { useTwostepQuery } from '@twostep/client/react';
import { Link, useLocation } from 'react-router';
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
  // Read fresh: after a change, the account as the server now has it.
  const { data: user, error, loading, refetch } = useTwostepQuery((c) => c.me());
  return (
    <Page title="Your account">
      <Notice>{state?.notice}</Notice>
      <div role="status">{loading && !user && <p>Loading your account…</p>}</div>
      <FormAlert>
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
