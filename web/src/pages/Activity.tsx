import { describeDevice, errorMessage, toTwostepError, type SecurityEvent, type TwostepError } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { describeEvent, eventDetail, groupActivity, type ActivityItem } from '../events';
import { formatTime } from '../format';
import { FormAlert, Page } from '../ui';
import { RequireSession } from './RequireSession';

/** pageSize is how many events one request asks for (the server's default, too). */
const pageSize = 20;

/**
 * Activity lists what happened to the account, newest first, a page at a
 * time: sign-ins, codes sent, wrong passwords, changes. Something the
 * person does not recognise is a reason to sign out elsewhere and change
 * the password, so the page says where each came from.
 */
export function Activity() {
  return (
    <RequireSession>
      <ActivityList />
    </RequireSession>
  );
}

interface Loaded {
  events: SecurityEvent[];
  /** The cursor to ask for the next page with, or null at the end. */
  next: string | null;
}

function ActivityList() {
  const { securityEvents } = useTwostep();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TwostepError | null>(null);
  // The first item a "Show more" added, to move focus to once it is shown.
  const [focusId, setFocusId] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setBusy(true);
    setError(null);
    securityEvents({ first: pageSize }).then(
      (page) => live && setLoaded({ events: page.edges.map((e) => e.node), next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null }),
      (err: unknown) => live && setError(toTwostepError(err)),
    ).finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [securityEvents, attempt]);

  useEffect(() => {
    if (focusId !== null) document.getElementById(`event-${focusId}`)?.focus();
  }, [focusId]);

  async function showMore() {
    if (busy || !loaded?.next) return;
    setBusy(true);
    setError(null);
    try {
      const page = await securityEvents({ first: pageSize, after: loaded.next });
      // A page may overlap the last one if events arrived meanwhile: an event is listed once.
      const seen = new Set(loaded.events.map((e) => e.id));
      const fresh = page.edges.map((e) => e.node).filter((e) => !seen.has(e.id));
      setLoaded({ events: [...loaded.events, ...fresh], next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null });
      // Focus lands on the first event that was not there before, where a
      // keyboard or screen-reader user goes on reading.
      const items = groupActivity([...loaded.events, ...fresh]);
      const first = items.find((item) => fresh.some((e) => e.id === item.event.id));
      setFocusId(first?.event.id ?? null);
    } catch (err) {
      setError(toTwostepError(err));
    } finally {
      setBusy(false);
    }
  }

  const items = loaded ? groupActivity(loaded.events) : [];
  return (
    <Page title="Recent activity">
      <p>What happened to your account, newest first. If you do not recognise something, sign out of your other sessions and change your password.</p>
      <FormAlert>
        {error && error.code !== 'UNAUTHENTICATED' && (
          <>
            {errorMessage(error)}{' '}
            <button type="button" className="link" onClick={() => (loaded ? void showMore() : setAttempt((n) => n + 1))}>
              Try again
            </button>
          </>
        )}
      </FormAlert>
      <div role="status">
        {busy && !loaded && <p>Loading your activity…</p>}
        {loaded && items.length === 0 && <p>Nothing yet.</p>}
      </div>
      {items.length > 0 && (
        <ol className="events">
          {items.map((item) => (
            <EventItem key={item.event.id} item={item} />
          ))}
        </ol>
      )}
      {loaded?.next && (
        <button type="button" className="secondary" aria-disabled={busy || undefined} onClick={() => void showMore()}>
          {busy ? 'Loading…' : 'Show more'}
        </button>
      )}
      <p>
        <Link to="/sessions">Your sessions</Link> · <Link to="/welcome">Back to your account</Link>
      </p>
    </Page>
  );
}

function EventItem({ item: { event: e, count, since } }: { item: ActivityItem }) {
  const detail = eventDetail(e);
  return (
    <li className="event" id={`event-${e.id}`} tabIndex={-1}>
      <p className="event-what">
        {describeEvent(e.type)}
        {count > 1 && ` (${count} times)`}
      </p>
      <p className="event-meta">
        {since !== null && (
          <>
            <time dateTime={since}>{formatTime(since)}</time> to{' '}
          </>
        )}
        <time dateTime={e.at}>{formatTime(e.at)}</time>
        {' · '}
        <span title={e.userAgent ?? undefined}>{describeDevice(e.userAgent)}</span>
        {' · '}
        IP address {e.ipAddress ?? 'unknown'}
      </p>
      {detail && <p className="event-detail">{detail}</p>}
    </li>
  );
}
