import { describeDevice, errorMessage, toTwostepError, type Session, type TwostepError } from '@twostep/client';
import { useTwostep, useTwostepQuery } from '@twostep/client/react';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { useFlow } from '../flow';
import { formatTime } from '../format';
import { FormAlert, Notice, Page } from '../ui';
import { RequireSession } from './RequireSession';

/**
 * Sessions lists where the person is signed in and lets them end any of
 * those sessions, or all but this one. Ending this one is signing out.
 */
export function Sessions() {
  return (
    <RequireSession>
      <SessionList />
    </RequireSession>
  );
}

// The session id being signed out, or "others" for all of them.
type Busy = string | null;

function SessionList() {
  const { revokeSession, logout } = useTwostep();
  const { signOut, signingOut } = useFlow();
  // Read fresh each time: a remembered list could offer to end a session
  // that is already over.
  const { data: sessions, error, loading, refetch } = useTwostepQuery((c) => c.sessions());
  const [busy, setBusy] = useState<Busy>(null);
  const [problem, setProblem] = useState<TwostepError | null>(null);
  const [news, setNews] = useState('');
  const newsRef = useRef<HTMLDivElement>(null);

  // act runs one sign-out, then shows the list as the server now has it.
  // The button that was pressed may be gone from the list, so focus moves
  // to the news.
  async function act(key: string, run: () => Promise<string>) {
    if (busy !== null || signingOut) return;
    setBusy(key);
    setProblem(null);
    setNews('');
    try {
      const message = await run();
      // A failed reload shows as the list's own error, below.
      await refetch();
      setNews(message);
      newsRef.current?.focus();
    } catch (err) {
      setProblem(toTwostepError(err));
    } finally {
      setBusy(null);
    }
  }

  function end(s: Session) {
    if (s.current) {
      // RequireSession takes the person to sign in once it is done.
      if (!signingOut) void signOut();
      return;
    }
    void act(s.id, async () => {
      const { revokedSessions } = await revokeSession({ sessionId: s.id });
      return revokedSessions ? `Signed out of ${describeDevice(s.userAgent)}.` : 'That session had already ended.';
    });
  }

  function endOthers() {
    void act('others', async () => {
      const n = (await logout('OTHERS')).revokedSessions;
      return n === 0 ? 'There were no other sessions to end.' : `Signed out of ${n} other ${n === 1 ? 'session' : 'sessions'}.`;
    });
  }

  const others = sessions?.filter((s) => !s.current).length ?? 0;
  return (
    <Page title="Your sessions">
      <Notice focusRef={newsRef}>{news}</Notice>
      <FormAlert>
        {problem && errorMessage(problem)}
        {!problem && error && error.code !== 'UNAUTHENTICATED' && (
          <>
            {errorMessage(error)}{' '}
            <button type="button" className="link" onClick={() => void refetch()}>
              Try again
            </button>
          </>
        )}
      </FormAlert>
      <div role="status">{loading && !sessions && <p>Loading your sessions…</p>}</div>
      {sessions && (
        <>
          <p>Each sign-in is a session. Sign out of any you do not recognise, then change your password.</p>
          <ul className="sessions">
            {sessions.map((s) => (
              <SessionItem key={s.id} session={s} busy={busy === s.id || (s.current && signingOut)} onEnd={() => end(s)} />
            ))}
          </ul>
          {others > 0 && (
            <button type="button" aria-disabled={busy !== null || undefined} onClick={endOthers}>
              {busy === 'others' ? 'Signing out…' : 'Sign out of all other sessions'}
            </button>
          )}
        </>
      )}
      <p>
        <Link to="/welcome">Back to your account</Link>
      </p>
    </Page>
  );
}

function SessionItem({ session: s, busy, onEnd }: { session: Session; busy: boolean; onEnd(): void }) {
  const device = describeDevice(s.userAgent);
  return (
    <li className="session">
      <h2 title={s.userAgent ?? undefined}>
        {device}
        {s.current && <span className="badge">This device</span>}
      </h2>
      <dl className="facts">
        <dt>IP address</dt>
        <dd>{s.ipAddress ?? 'Unknown'}</dd>
        <dt>Signed in</dt>
        <dd>
          <Time value={s.createdAt} />
        </dd>
        <dt>Last active</dt>
        <dd>
          <Time value={s.lastUsedAt} />
        </dd>
        <dt>Ends</dt>
        <dd>
          <Time value={s.expiresAt} />
        </dd>
      </dl>
      {s.userAgent && (
        <details>
          <summary>Browser details</summary>
          <p className="raw">{s.userAgent}</p>
        </details>
      )}
      <button type="button" aria-disabled={busy || undefined} onClick={() => !busy && onEnd()}>
        {busy ? 'Signing out…' : 'Sign out'}
        {/* Every item has this button: say which one it is. */}
        <span className="visually-hidden">{s.current ? ' of this device' : ` of ${device}, signed in ${formatTime(s.createdAt)}`}</span>
      </button>
    </li>
  );
}

function Time({ value }: { value: string }) {
  return <time dateTime={value}>{formatTime(value)}</time>;
}
