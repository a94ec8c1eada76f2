import type { User } from '@twostep/client';
import { maskPhone } from '../format';

/**
 * UserFacts lists what the account is: its phone and since when (the email
 * is said around it). masked hides the middle of the number, as the code
 * page does.
 */
export function UserFacts({ user, masked = false }: { user: Pick<User, 'phone' | 'phoneVerified' | 'createdAt'>; masked?: boolean }) {
  return (
    <dl className="facts">
      <dt>Phone</dt>
      <dd>
        {masked ? maskPhone(user.phone) : user.phone} {user.phoneVerified ? '(verified)' : '(not verified)'}
      </dd>
      <dt>Member since</dt>
      <dd>
        <time dateTime={user.createdAt}>{new Date(user.createdAt).toLocaleDateString()}</time>
      </dd>
    </dl>
  );
}
