import type { User } from '@twostep/client';

/** UserFacts lists what the account is: its phone and since when (the email is said around it). */
export function UserFacts({ user }: { user: Pick<User, 'phone' | 'phoneVerified' | 'createdAt'> }) {
  return (
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
  );
}
