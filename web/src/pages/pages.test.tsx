// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultStorageKey,
  fakeServer,
  gqlError,
  memoryStorage,
  press,
  refreshed,
  renderApp,
  signedIn,
  stored,
  tokens,
  type,
  user,
  webStorageText,
  type Handler,
  type Reply,
} from '../testing';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  localStorage.clear();
  sessionStorage.clear();
});

const challenge: Reply = {
  data: {
    login: {
      
      mfaToken: 'mfa-1',
      channel: 'SMS',
      sentTo: '+1******0123',
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      resendAfter: 30,
    },
  },
};

/** toCodePage drives the password step so tests start on the code page. */
async function toCodePage(handlers: Parameters<typeof fakeServer>[0]) {
  const server = fakeServer({ Login: () => challenge, ...handlers });
  const app = renderApp('/login', server);
  type('Email', 'ada@example.com');
  type('Password', 'correct horse battery staple 7');
  press('Sign in');
  await screen.findByRole('heading', { name: 'Enter your code' });
  return { server, ...app };
}

describe('Register', () => {
  it('shows each BAD_USER_INPUT at its field and focuses the first', async () => {
    renderApp(
      '/register',
      fakeServer({
        Register: () => ({
          data: null,
          errors: [
            {
              message: 'Phone number must be a valid mobile number, e.g. +14155550123.',
              extensions: { code: 'BAD_USER_INPUT', field: 'phone' },
            },
            { message: 'password is too common', extensions: { code: 'BAD_USER_INPUT', field: 'password' } },
          ],
        }),
      }),
    );
    type('Email', 'ada@example.com');
    type('Password', 'password');
    type('Phone number', '555');
    press('Create account');

    const password = screen.getByLabelText('Password');
    await waitFor(() => expect(password.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Password is too common.').id).toBe('password-error');
    expect(password.getAttribute('aria-describedby')).toContain('password-error');
    expect(screen.getByText('Phone number must be a valid mobile number, e.g. +14155550123.').id).toBe('phone-error');
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBeNull();
    expect(document.activeElement).toBe(password);
  });

  it('shows EMAIL_TAKEN at the email field', async () => {
    renderApp('/register', fakeServer({ Register: () => gqlError('EMAIL_TAKEN') }));
    press('Create account');
    expect(await screen.findByText(/already exists/)).toHaveProperty('id', 'email-error');
  });

  it('shows PHONE_TAKEN at the phone field', async () => {
    renderApp('/register', fakeServer({ Register: () => gqlError('PHONE_TAKEN') }));
    press('Create account');
    expect(await screen.findByText(/belongs to another account/)).toHaveProperty('id', 'phone-error');
  });

  it('labels the phone field as the server names it, with the format in its hint', () => {
    renderApp('/register', fakeServer({}));
    const phone = screen.getByLabelText('Phone number');
    expect(phone.getAttribute('type')).toBe('tel');
    const hint = document.getElementById(String(phone.getAttribute('aria-describedby')));
    expect(hint?.textContent).toMatch(/In international format, e\.g\. \+1 415 555 0123\.$/);
  });

  it('sends a normalised phone number, then signs in with the password just typed and goes to the code step', async () => {
    const server = fakeServer({ Register: () => ({ data: { register: { user } } }), Login: () => challenge });
    renderApp('/register', server);
    type('Email', ' ada@example.com ');
    type('Password', 'correct horse battery staple 7');
    type('Phone number', '+1 (415) 555-0123');
    press('Create account');

    await screen.findByRole('heading', { name: 'Enter your code' });
    expect(server.requests.map((r) => [r.operationName, r.variables])).toEqual([
      ['Register', { input: { email: 'ada@example.com', password: 'correct horse battery staple 7', phone: '+14155550123' } }],
      ['Login', { input: { email: 'ada@example.com', password: 'correct horse battery staple 7' } }],
    ]);
    expect(screen.getByText('+1******0123').closest('p')?.textContent).toBe('We sent a code by text message to +1******0123.');
    expect(webStorageText()).not.toContain('correct horse');
  });

  it('asks the person to sign in when the code cannot be sent after registering', async () => {
    const server = fakeServer({
      Register: () => ({ data: { register: { user } } }),
      Login: () => gqlError('OTP_DELIVERY_FAILED'),
    });
    renderApp('/register', server);
    type('Email', 'ada@example.com');
    type('Password', 'correct horse battery staple 7');
    type('Phone number', '+14155550123');
    press('Create account');

    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Your account is ready. Sign in to continue.');
    expect(screen.getByLabelText('Email')).toHaveProperty('value', 'ada@example.com');
    expect(screen.getByLabelText('Password')).toHaveProperty('value', '');
  });
});

describe('Login', () => {
  it('says plainly that the credentials are wrong', async () => {
    renderApp('/login', fakeServer({ Login: () => gqlError('INVALID_CREDENTIALS') }));
    press('Sign in');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('The email or password is wrong.'));
  });

  it("shows the server's RATE_LIMITED message with its wait counting down in the alert alone, and holds the form", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const server = fakeServer({
      Login: () =>
        gqlError('RATE_LIMITED', { retryAfter: 3227, reason: 'account_block' }, 'Too many failed attempts on this account. Try again in 54 minutes.'),
    });
    renderApp('/login', server);
    press('Sign in');
    const alert = screen.getByRole('alert');
    await waitFor(() => expect(alert.textContent).toMatch(/^Too many failed attempts on this account\. Try again in 53:4[67]\.$/));
    expect(alert.querySelector('[role=timer]')?.textContent).toMatch(/^53:4[67]$/);
    // One countdown: the button holds, saying nothing of the time.
    const button = screen.getByRole('button', { name: 'Sign in' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(button);
    expect(server.requests).toHaveLength(1);

    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(alert.textContent).toMatch(/Try again in 52:4[67]\.$/);
    await act(() => vi.advanceTimersByTimeAsync(3_200_000));
    expect(alert.textContent).toBe('Too many failed attempts on this account. You can try again now.');
    expect(button.getAttribute('aria-disabled')).toBeNull();
  });

  it('shows a RATE_LIMITED message without a wait sentence as the server wrote it, with the countdown after it', async () => {
    renderApp('/login', fakeServer({ Login: () => gqlError('RATE_LIMITED', { retryAfter: 30, reason: 'ip' }, 'Slow down') }));
    press('Sign in');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/^Slow down\. Try again in 0:(30|29)\.$/));
  });

  it('explains a network failure', async () => {
    renderApp(
      '/login',
      fakeServer({
        Login: () => {
          throw new TypeError('Failed to fetch');
        },
      }),
    );
    press('Sign in');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/could not reach the server/));
  });
});

describe('Verify', () => {
  it('shows where the code went, a countdown, and a one-time-code numeric field', async () => {
    await toCodePage({});
    expect(screen.getByText('+1******0123').closest('p')?.textContent).toBe('We sent a code by text message to +1******0123.');
    expect(document.getElementById('code-expiry')?.textContent).toMatch(/^(10:00|9:5\d)$/);
    expect(document.getElementById('code-expiry')?.getAttribute('role')).toBe('timer');
    const code = screen.getByLabelText('Code');
    expect(code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(code.getAttribute('inputmode')).toBe('numeric');
    expect(document.activeElement).toBe(code);
  });

  it('shows attemptsLeft after a wrong code and keeps the code, selected, to fix', async () => {
    const { server } = await toCodePage({ VerifyOtp: () => gqlError('INVALID_OTP', { attemptsLeft: 4 }) });
    type('Code', '000 000');
    press('Verify');
    expect(await screen.findByText('That code is wrong. You have 4 attempts left.')).toHaveProperty('id', 'code-error');
    const code = screen.getByLabelText<HTMLInputElement>('Code');
    expect(code.value).toBe('000 000');
    expect(document.activeElement).toBe(code);
    expect([code.selectionStart, code.selectionEnd]).toEqual([0, 7]);
    expect(server.requests.at(-1)?.variables).toEqual({ input: { mfaToken: 'mfa-1', code: '000000' } });
  });

  it('accepts a code typed with spaces ("12 34 56"), sending its digits', async () => {
    const { server } = await toCodePage({ VerifyOtp: () => gqlError('INVALID_OTP', { attemptsLeft: 3, field: 'code' }) });
    expect(screen.getByLabelText('Code').getAttribute('pattern')).toBeNull();
    type('Code', '12 34 56');
    press('Verify');
    await screen.findByText('That code is wrong. You have 3 attempts left.');
    expect(server.requests.at(-1)?.variables).toEqual({ input: { mfaToken: 'mfa-1', code: '123456' } });
  });

  it('does not spend an attempt on an empty code', async () => {
    const { server } = await toCodePage({});
    press('Verify');
    expect(await screen.findByText('Enter the code from the text message.')).toBeTruthy();
    expect(server.requests.map((r) => r.operationName)).toEqual(['Login']);
  });

  it.each([
    ['MFA_TOKEN_INVALID', gqlError('MFA_TOKEN_INVALID'), /expired or was already used/],
    ['the last attempt', gqlError('INVALID_OTP', { attemptsLeft: 0 }), /wrong too many times/],
  ])('sends the person back to sign in after %s', async (_name, reply, notice) => {
    await toCodePage({ VerifyOtp: () => reply });
    type('Code', '123456');
    press('Verify');
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toMatch(notice);
  });

  describe('sending the code again', () => {
    // Fake timers that also move on by themselves, so that the testing
    // library's own waits (findBy…, waitFor) still work.
    beforeEach(() => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
    });

    /** elapse moves the clock on by ms, running what falls due, effects scheduled meanwhile included. */
    async function elapse(ms: number) {
      await act(() => vi.advanceTimersByTimeAsync(ms));
    }

    /** resent is resendOtp's answer for channel. */
    function resent(channel: string): Reply {
      const { login } = challenge.data as { login: Record<string, unknown> };
      return { data: { resendOtp: { ...login, channel } } };
    }

    function resendButtons() {
      return [screen.getByRole('button', { name: 'Send the code again' }), screen.getByRole('button', { name: 'Call me instead' })];
    }

    it('waits 30 seconds after a send, counting down, then calls with the same code', async () => {
      const { server } = await toCodePage({ ResendOtp: (v) => resent((v.input as { channel: string }).channel) });
      type('Code', '12');
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:(30|29)$/);
      for (const b of resendButtons()) {
        expect(b.getAttribute('aria-disabled')).toBe('true');
        expect(b.getAttribute('aria-describedby')).toBe('resend-note');
        fireEvent.click(b);
      }
      expect(server.requests.map((r) => r.operationName)).toEqual(['Login']);

      await elapse(10_000);
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:(20|19)$/);
      await elapse(20_000);
      expect(document.getElementById('resend-wait')).toBeNull();
      expect(resendButtons().map((b) => b.getAttribute('aria-disabled'))).toEqual([null, null]);

      press('Call me instead');
      expect(await screen.findByText('We are calling you now. It is the same code as before.')).toBeTruthy();
      expect(screen.getByText('+1******0123').closest('p')?.textContent).toBe('We called +1******0123 to read out a code.');
      expect(server.requests.at(-1)?.variables).toEqual({ input: { mfaToken: 'mfa-1', channel: 'CALL' } });
      expect(server.requests.at(-1)?.headers.get('authorization')).toBeNull();
      // The wait starts again from this send, and what was typed stays.
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:(30|29)$/);
      expect(screen.getByRole('button', { name: 'Call me again' }).getAttribute('aria-disabled')).toBe('true');
      expect(screen.getByLabelText('Code')).toHaveProperty('value', '12');
      expect(webStorageText()).not.toContain('mfa-1');
    });

    it('waits as long as the server says (resendAfter), not a guess', async () => {
      const quick = { ...(challenge.data as { login: object }).login, resendAfter: 2 };
      const { server } = await toCodePage({ Login: () => ({ data: { login: quick } }), ResendOtp: () => ({ data: { resendOtp: quick } }) });
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:0[12]$/);
      await elapse(2_000);
      expect(document.getElementById('resend-wait')).toBeNull();
      press('Send the code again');
      expect(await screen.findByText('We sent the code again. It is the same code as before.')).toBeTruthy();
      expect(server.requests.at(-1)?.operationName).toBe('ResendOtp');
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:0[12]$/);
    });

    it('counts down the wait of a RATE_LIMITED answer in one place, the server naming the limit', async () => {
      const { server } = await toCodePage({
        ResendOtp: () =>
          gqlError(
            'RATE_LIMITED',
            { retryAfter: 45, reason: 'phone_cooldown' },
            'A code was just sent to this number. You can ask for another in 45 seconds.',
          ),
      });
      await elapse(30_000);
      press('Send the code again');
      await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('A code was just sent to this number.'));
      expect(document.getElementById('resend-wait')?.textContent).toMatch(/^0:(45|44)$/);
      expect(screen.getAllByRole('timer').map((t) => t.id)).toEqual(['code-expiry', 'resend-wait']);
      fireEvent.click(screen.getByRole('button', { name: 'Send the code again' }));
      expect(server.requests.filter((r) => r.operationName === 'ResendOtp')).toHaveLength(1);
      // The code can still be checked meanwhile.
      expect(screen.getByRole('button', { name: 'Verify' }).getAttribute('aria-disabled')).toBeNull();
      await elapse(45_000);
      expect(document.getElementById('resend-wait')).toBeNull();
    });

    it('says so when the code cannot be sent that way', async () => {
      await toCodePage({ ResendOtp: () => gqlError('OTP_DELIVERY_FAILED') });
      await elapse(30_000);
      press('Call me instead');
      await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/could not send the code/));
      expect(screen.getByText('+1******0123').closest('p')?.textContent).toMatch(/^We sent a code by text message/);
    });

    it('sends the person back to sign in when the login is over', async () => {
      await toCodePage({ ResendOtp: () => gqlError('MFA_TOKEN_INVALID') });
      await elapse(30_000);
      press('Send the code again');
      await screen.findByRole('heading', { name: 'Sign in' });
      expect(screen.getByRole('status').textContent).toMatch(/expired or was already used/);
      expect(screen.getByLabelText('Email')).toHaveProperty('value', 'ada@example.com');
    });
  });

  it('sends the person to sign in when there is no challenge (a reload)', async () => {
    renderApp('/verify', fakeServer({}));
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toMatch(/sign in with your email and password first/);
  });

  // The README: going back to the sign-in page drops the mfaToken, so the
  // code page cannot be reached again without signing in again.
  it.each([
    ['its link, then back', 'Back to sign in', -1],
    ["the browser's back, then forward", -1, 1],
    ['the address, then again', '/login', '/verify'],
  ] as const)('drops the mfaToken on going back to sign in (%s)', async (_name, leave, again) => {
    const { server, navigate } = await toCodePage({});
    if (leave === 'Back to sign in') fireEvent.click(screen.getByRole('link', { name: leave }));
    else await navigate(leave);
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('');

    await navigate(again);
    await screen.findByText(/sign in with your email and password first/);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sign in');
    expect(screen.queryByRole('heading', { name: 'Enter your code' })).toBeNull();
    expect(screen.getByRole('status').textContent).toMatch(/sign in with your email and password first/);
    expect(server.requests.map((r) => r.operationName)).toEqual(['Login']);
  });

  it('signs in and the welcome page asks for me with the bearer token', async () => {
    const { server, store } = await toCodePage({
      VerifyOtp: () => ({ data: { verifyOtp: tokens(1) } }),
      Me: () => ({ data: { me: user } }),
    });
    type('Code', '123456');
    press('Verify');
    expect(await screen.findByText('ada@example.com')).toBeTruthy();
    expect(store.accessToken()).toBe('tok-1');
    expect(store.refreshToken()).toBe('ref-1');
    const me = server.requests.find((r) => r.operationName === 'Me');
    expect(me?.headers.get('authorization')).toBe('Bearer tok-1');
    expect(server.requests.find((r) => r.operationName === 'Login')?.headers.get('authorization')).toBeNull();
  });
});

/** later is an answer that waits until release is called. */
function later(reply: Reply): { handler: Handler; release(): void } {
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  return { handler: () => gate.then(() => reply), release };
}

describe('Welcome', () => {
  it('restores a stored session: a neutral loading state, then the account, never the sign-in page', async () => {
    const refresh = later(refreshed(2));
    const server = fakeServer({ RefreshSession: refresh.handler, Me: () => ({ data: { me: user } }) });
    renderApp('/welcome', server, stored());
    await waitFor(() => expect(server.requests.map((r) => r.operationName)).toEqual(['RefreshSession']));
    expect(screen.getByRole('status').textContent).toBe('Loading…');
    expect(screen.queryByRole('heading')).toBeNull();
    refresh.release();
    expect(await screen.findByText('ada@example.com')).toBeTruthy();
    expect(server.requests.find((r) => r.operationName === 'Me')?.headers.get('authorization')).toBe('Bearer tok-2');
  });

  it('sends the person to sign in when the stored session has ended', async () => {
    const storage = memoryStorage();
    renderApp('/welcome', fakeServer({ RefreshSession: () => gqlError('REFRESH_TOKEN_INVALID') }), stored(storage));
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Your session ended. Sign in again.');
    expect(storage.items.size).toBe(0);
  });

  it('says so, with a way to try again, when the first refresh cannot reach the server, keeping the session', async () => {
    const storage = memoryStorage();
    let offline = true;
    const server = fakeServer({
      RefreshSession: () => {
        if (offline) throw new TypeError('Failed to fetch');
        return refreshed(2);
      },
      Me: () => ({ data: { me: user } }),
    });
    renderApp('/welcome', server, stored(storage));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/could not reach the server/));
    expect(screen.queryByRole('heading', { name: 'Sign in' })).toBeNull();
    expect(storage.getItem(defaultStorageKey)).toBe('ref-1');
    offline = false;
    press('Try again');
    expect(await screen.findByText('ada@example.com')).toBeTruthy();
  });

  it('refreshes once and retries when the server refuses the access token', async () => {
    const server = fakeServer({
      RefreshSession: () => refreshed(2),
      Me: (_v, headers) => (headers.get('authorization') === 'Bearer tok-2' ? { data: { me: user } } : gqlError('UNAUTHENTICATED')),
    });
    renderApp('/welcome', server, signedIn());
    expect(await screen.findByText('ada@example.com')).toBeTruthy();
    expect(server.requests.map((r) => r.operationName)).toEqual(['Me', 'RefreshSession', 'Me']);
  });

  it('sends the person to sign in when the refused session cannot be refreshed', async () => {
    const storage = memoryStorage();
    const store = signedIn(storage);
    renderApp('/welcome', fakeServer({ Me: () => gqlError('UNAUTHENTICATED'), RefreshSession: () => gqlError('REFRESH_TOKEN_INVALID') }), store);
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Your session ended. Sign in again.');
    expect(store.accessToken()).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it('shows the number masked, as the code page does, and links to sessions, activity and the account', async () => {
    renderApp('/welcome', fakeServer({ Me: () => ({ data: { me: user } }) }), signedIn());
    expect(await screen.findByText('+1******0123 (verified)')).toBeTruthy();
    expect(screen.queryByText(/\+14155550123/)).toBeNull();
    expect(screen.getAllByRole('link').map((a) => a.textContent)).toEqual(['Your sessions', 'Recent activity', 'Your account']);
  });

  it('signs out on the server, then here', async () => {
    const storage = memoryStorage();
    const store = signedIn(storage);
    const server = fakeServer({ Me: () => ({ data: { me: user } }), Logout: () => ({ data: { logout: { revokedSessions: 1 } } }) });
    renderApp('/welcome', server, store);
    await screen.findByText('ada@example.com');
    press('Sign out');
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('You have signed out.');
    const logout = server.requests.filter((r) => r.operationName === 'Logout');
    expect(logout.map((r) => [r.variables, r.headers.get('authorization')])).toEqual([[{ scope: 'CURRENT' }, 'Bearer tok-1']]);
    expect(store.accessToken()).toBeNull();
    expect(storage.items.size).toBe(0);
    expect(server.requests.filter((r) => r.operationName === 'Me')).toHaveLength(1);
  });

  it('signs out here even when the server cannot be reached', async () => {
    const storage = memoryStorage();
    const server = fakeServer({
      Me: () => ({ data: { me: user } }),
      Logout: () => {
        throw new TypeError('Failed to fetch');
      },
    });
    renderApp('/welcome', server, signedIn(storage));
    await screen.findByText('ada@example.com');
    press('Sign out');
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('You have signed out.');
    expect(storage.items.size).toBe(0);
  });

  it('without a session goes straight to sign in, asking nothing', async () => {
    const server = fakeServer({});
    renderApp('/welcome', server);
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Sign in to see your account.');
    expect(server.requests).toEqual([]);
  });

  it('signs out when another tab does', async () => {
    const store = signedIn(localStorage);
    renderApp('/welcome', fakeServer({ Me: () => ({ data: { me: user } }) }), store, { events: window });
    await screen.findByText('ada@example.com');
    act(() => {
      // What another tab's sign-out looks like from here.
      localStorage.removeItem(defaultStorageKey);
      window.dispatchEvent(new StorageEvent('storage', { key: defaultStorageKey, oldValue: 'ref-1', newValue: null }));
    });
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('You signed out in another tab.');
    expect(store.accessToken()).toBeNull();
  });
});

describe('Sessions', () => {
  const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0';
  const iphone =
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';
  const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

  function session(id: string, userAgent: string | null, current = false) {
    return {
      
      id,
      createdAt: '2026-03-01T10:00:00Z',
      lastUsedAt: '2026-03-02T10:00:00Z',
      expiresAt: '2026-03-31T10:00:00Z',
      userAgent,
      ipAddress: current ? '203.0.113.7' : null,
      current,
    };
  }

  /** server answers Sessions from a list that revokeSession and logout(OTHERS) shrink. */
  function sessionsServer(extra: Record<string, Handler> = {}) {
    let list = [session('s1', chrome, true), session('s2', firefox), session('s3', iphone)];
    return fakeServer({
      Sessions: () => ({ data: { sessions: list } }),
      RevokeSession: (v) => {
        const id = (v.input as { sessionId: string }).sessionId;
        const before = list.length;
        list = list.filter((s) => s.id !== id);
        return { data: { revokeSession: { revokedSessions: before - list.length } } };
      },
      Logout: (v) => {
        const before = list.length;
        list = v.scope === 'OTHERS' ? list.filter((s) => s.current) : list.filter((s) => !s.current);
        return { data: { logout: { revokedSessions: before - list.length } } };
      },
      ...extra,
    });
  }

  function items() {
    return screen.getAllByRole('listitem').map((li) => within(li).getByRole('heading').textContent);
  }

  it('lists each session with its device, marking this one', async () => {
    const server = sessionsServer();
    renderApp('/sessions', server, signedIn());
    await screen.findByRole('heading', { name: 'Your sessions' });
    await waitFor(() => expect(items()).toEqual(['Chrome on LinuxThis device', 'Firefox on Windows', 'Safari on iPhone']));
    const [mine] = screen.getAllByRole('listitem');
    expect(within(mine!).getByText('203.0.113.7')).toBeTruthy();
    expect(within(mine!).getByRole('heading').getAttribute('title')).toBe(chrome);
    expect(within(mine!).getByText(chrome).closest('details')).toBeTruthy();
    expect(within(mine!).getAllByRole('time').map((t) => t.getAttribute('datetime'))).toEqual([
      '2026-03-01T10:00:00Z',
      '2026-03-02T10:00:00Z',
      '2026-03-31T10:00:00Z',
    ]);
    expect(screen.getByRole('button', { name: 'Sign out of this device' })).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Sign out of Firefox on Windows, signed in / })).toBeTruthy();
    expect(server.requests[0]?.headers.get('authorization')).toBe('Bearer tok-1');
  });

  it('signs one other session out, then shows the list as it now is', async () => {
    const server = sessionsServer();
    renderApp('/sessions', server, signedIn());
    fireEvent.click(await screen.findByRole('button', { name: /^Sign out of Firefox on Windows/ }));
    await waitFor(() => expect(items()).toEqual(['Chrome on LinuxThis device', 'Safari on iPhone']));
    expect(server.requests.find((r) => r.operationName === 'RevokeSession')?.variables).toEqual({ input: { sessionId: 's2' } });
    const news = await screen.findByText('Signed out of Firefox on Windows.');
    expect(news.getAttribute('role')).toBe('status');
    expect(document.activeElement).toBe(news);
  });

  it('signs out of all other sessions', async () => {
    const server = sessionsServer();
    renderApp('/sessions', server, signedIn());
    await screen.findByRole('button', { name: 'Sign out of all other sessions' });
    press('Sign out of all other sessions');
    expect(await screen.findByText('Signed out of 2 other sessions.')).toBeTruthy();
    expect(items()).toEqual(['Chrome on LinuxThis device']);
    expect(server.requests.find((r) => r.operationName === 'Logout')?.variables).toEqual({ scope: 'OTHERS' });
    expect(screen.queryByText('Sign out of all other sessions')).toBeNull();
  });

  it('says so when the session had already ended', async () => {
    const server = sessionsServer({ RevokeSession: () => ({ data: { revokeSession: { revokedSessions: 0 } } }) });
    renderApp('/sessions', server, signedIn());
    fireEvent.click(await screen.findByRole('button', { name: /^Sign out of Safari on iPhone/ }));
    expect(await screen.findByText('That session had already ended.')).toBeTruthy();
  });

  it('signing this device out is signing out', async () => {
    const storage = memoryStorage();
    const server = sessionsServer();
    renderApp('/sessions', server, signedIn(storage));
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out of this device' }));
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('You have signed out.');
    expect(server.requests.find((r) => r.operationName === 'Logout')?.variables).toEqual({ scope: 'CURRENT' });
    expect(server.requests.some((r) => r.operationName === 'RevokeSession')).toBe(false);
    expect(storage.items.size).toBe(0);
  });

  it('shows a failed sign-out and keeps the list', async () => {
    const server = sessionsServer({
      RevokeSession: () => gqlError('RATE_LIMITED', { retryAfter: 20, reason: 'ip' }, 'Too many requests from your network. Try again in 20 seconds.'),
    });
    renderApp('/sessions', server, signedIn());
    fireEvent.click(await screen.findByRole('button', { name: /^Sign out of Firefox on Windows/ }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Too many requests from your network. Try again in 20 seconds.'));
    expect(items()).toHaveLength(3);
  });

  it('shows a list that cannot be loaded, with a way to try again', async () => {
    let offline = true;
    const server = fakeServer({
      Sessions: () => {
        if (offline) throw new TypeError('Failed to fetch');
        return { data: { sessions: [session('s1', null, true)] } };
      },
    });
    renderApp('/sessions', server, signedIn());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/could not reach the server/));
    offline = false;
    press('Try again');
    await waitFor(() => expect(items()).toEqual(['Unknown deviceThis device']));
  });
});
