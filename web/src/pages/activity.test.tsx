// @vitest-environment happy-dom
import type { SecurityEvent } from '@twostep/client';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeServer, gqlError, press, renderApp, signedIn, user, type Reply } from '../testing';

afterEach(cleanup);

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';

function ev(n: number, type: string, extra: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    id: `ev-${n}`,
    at: new Date(Date.UTC(2026, 2, 1, 10, 0, n)).toISOString(),
    type,
    userId: 'u1',
    ipAddress: '203.0.113.7',
    userAgent: chrome,
    detail: null,
    ...extra,
  };
}

/** page is securityEvents' answer: events, and the cursor of the next page if there is one. */
function page(events: SecurityEvent[], next: string | null = null): Reply {
  return {
    data: {
      securityEvents: {
        edges: events.map((node) => ({ cursor: `c-${node.id}`, node })),
        pageInfo: { hasNextPage: next !== null, endCursor: next },
      },
    },
  };
}

function entries() {
  return screen.getAllByRole('listitem').map((li) => li.querySelector('.event-what')?.textContent);
}

describe('Activity', () => {
  it('is linked from the welcome page and lists the events in words, newest first, with when, the device and the address', async () => {
    const server = fakeServer({
      Me: () => ({ data: { me: user } }),
      SecurityEvents: () =>
        page([
          ev(9, 'SIGN_IN_COMPLETED', { detail: 'session 0190a8' }),
          ev(8, 'CODE_SENT', { detail: 'by sms to +1******0123 (login)' }),
          ev(7, 'LOGIN_SUCCEEDED'),
          ev(6, 'LOGIN_FAILED', { userAgent: firefox, ipAddress: null }),
          ev(5, 'USER_REGISTERED', { userAgent: null }),
        ]),
    });
    renderApp('/welcome', server, signedIn());
    fireEvent.click(await screen.findByRole('link', { name: 'Recent activity' }));
    await screen.findByRole('heading', { name: 'Recent activity' });
    await waitFor(() =>
      expect(entries()).toEqual([
        'Signed in',
        'Code sent',
        'Right password entered to sign in',
        'Wrong password entered to sign in',
        'Account created',
      ]),
    );
    const [signIn, code, , failed, created] = screen.getAllByRole('listitem');
    expect(signIn!.querySelector('time')?.getAttribute('datetime')).toBe('2026-03-01T10:00:09.000Z');
    expect(signIn!.textContent).toContain('Chrome on Linux');
    expect(signIn!.textContent).toContain('IP address 203.0.113.7');
    expect(signIn!.textContent).not.toContain('0190a8');
    expect(code!.querySelector('.event-detail')?.textContent).toBe('by sms to +1******0123 (login)');
    expect(failed!.textContent).toContain('Firefox on Windows');
    expect(failed!.textContent).toContain('IP address unknown');
    expect(created!.textContent).toContain('Unknown device');
    const request = server.requests.find((r) => r.operationName === 'SecurityEvents');
    expect(request?.variables).toEqual({ first: 20 });
    expect(request?.headers.get('authorization')).toBe('Bearer tok-1');
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });

  it('shows a type it has no words for by its name, with its detail', async () => {
    renderApp('/activity', fakeServer({ SecurityEvents: () => page([ev(1, 'PASSKEY_ADDED', { detail: 'a new key' })]) }), signedIn());
    await waitFor(() => expect(entries()).toEqual(['PASSKEY_ADDED']));
    expect(screen.getByText('a new key')).toBeTruthy();
  });

  it('folds renewals in a row into one entry', async () => {
    renderApp(
      '/activity',
      fakeServer({
        SecurityEvents: () =>
          page([ev(5, 'LOGOUT'), ev(4, 'SESSION_REFRESHED'), ev(3, 'SESSION_REFRESHED'), ev(2, 'SESSION_REFRESHED'), ev(1, 'SIGN_IN_COMPLETED')]),
      }),
      signedIn(),
    );
    await waitFor(() => expect(entries()).toEqual(['Signed out', 'Session renewed (3 times)', 'Signed in']));
    const times = screen.getAllByRole('listitem')[1]!.querySelectorAll('time');
    expect([...times].map((t) => t.getAttribute('datetime'))).toEqual(['2026-03-01T10:00:02.000Z', '2026-03-01T10:00:04.000Z']);
  });

  it('shows more, a page at a time, from where the last page ended, focusing the first new entry', async () => {
    const server = fakeServer({
      SecurityEvents: (v) =>
        v.after === undefined
          ? page([ev(9, 'SIGN_IN_COMPLETED'), ev(8, 'CODE_SENT')], 'c-ev-8')
          : v.after === 'c-ev-8'
            ? page([ev(8, 'CODE_SENT'), ev(7, 'LOGIN_SUCCEEDED'), ev(6, 'PASSWORD_CHANGED')], 'c-ev-6')
            : page([ev(5, 'USER_REGISTERED')]),
    });
    renderApp('/activity', server, signedIn());
    await waitFor(() => expect(entries()).toEqual(['Signed in', 'Code sent']));
    press('Show more');
    // An event the last page had already is listed once.
    await waitFor(() => expect(entries()).toEqual(['Signed in', 'Code sent', 'Right password entered to sign in', 'Password changed']));
    await waitFor(() => expect(document.activeElement?.id).toBe('event-ev-7'));
    press('Show more');
    await waitFor(() => expect(entries()).toHaveLength(5));
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
    expect(server.requests.map((r) => r.variables)).toEqual([{ first: 20 }, { first: 20, after: 'c-ev-8' }, { first: 20, after: 'c-ev-6' }]);
  });

  it('keeps the list when more cannot be loaded, and tries again', async () => {
    let offline = false;
    const server = fakeServer({
      SecurityEvents: (v) => {
        if (v.after === undefined) return page([ev(9, 'SIGN_IN_COMPLETED')], 'c-ev-9');
        if (offline) throw new TypeError('Failed to fetch');
        return page([ev(8, 'CODE_SENT')]);
      },
    });
    renderApp('/activity', server, signedIn());
    await waitFor(() => expect(entries()).toEqual(['Signed in']));
    offline = true;
    press('Show more');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/could not reach the server/));
    expect(entries()).toEqual(['Signed in']);
    offline = false;
    press('Try again');
    await waitFor(() => expect(entries()).toEqual(['Signed in', 'Code sent']));
    expect(screen.getByRole('alert').textContent).toBe('');
  });

  it('shows a list that cannot be loaded, with a way to try again', async () => {
    let fail = true;
    renderApp(
      '/activity',
      fakeServer({ SecurityEvents: () => (fail ? gqlError('SERVICE_UNAVAILABLE') : page([ev(1, 'SIGN_IN_COMPLETED')])) }),
      signedIn(),
    );
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/briefly unavailable/));
    fail = false;
    press('Try again');
    await waitFor(() => expect(entries()).toEqual(['Signed in']));
  });

  it('says so when there is nothing yet', async () => {
    renderApp('/activity', fakeServer({ SecurityEvents: () => page([]) }), signedIn());
    expect(await screen.findByText('Nothing yet.')).toBeTruthy();
  });

  it('without a session sends the person to sign in', async () => {
    const server = fakeServer({});
    renderApp('/activity', server);
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Sign in to see your account.');
    expect(server.requests).toEqual([]);
  });
});
