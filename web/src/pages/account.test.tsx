// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fakeServer,
  gqlError,
  memoryStorage,
  press,
  renderApp,
  signedIn,
  type,
  user,
  webStorageText,
  type Handler,
  type Reply,
} from '../testing';

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});

const me: Handler = () => ({ data: { me: user } });

/** operations lists the operations the server was sent, in order. */
function operations(server: ReturnType<typeof fakeServer>) {
  return server.requests.map((r) => r.operationName);
}

describe('Account', () => {
  it('is linked from the welcome page and links to each change', async () => {
    const server = fakeServer({ Me: me });
    renderApp('/welcome', server, signedIn());
    fireEvent.click(await screen.findByRole('link', { name: 'Your account' }));
    await screen.findByRole('heading', { name: 'Your account' });
    expect(await screen.findByText('ada@example.com')).toBeTruthy();
    expect(screen.getByText('+14155550123 (verified)')).toBeTruthy();
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Change password',
      'Change phone number',
      'Delete account',
    ]);
    expect(operations(server)).toEqual(['Me', 'Me']);
  });

  it('without a session sends the person to sign in', async () => {
    renderApp('/account/delete', fakeServer({}));
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Sign in to see your account.');
  });
});

describe('ChangePassword', () => {
  function fill() {
    type('Current password', 'correct horse battery staple 7');
    type('New password', 'correct horse battery staple 8');
  }

  it('shows a wrong current password at its field', async () => {
    const server = fakeServer({
      ChangePassword: () => gqlError('INVALID_CREDENTIALS', { field: 'currentPassword' }, 'The password is incorrect.'),
    });
    renderApp('/account/password', server, signedIn());
    await screen.findByRole('heading', { name: 'Change your password' });
    fill();
    press('Change password');
    expect(await screen.findByText('The password is wrong.')).toHaveProperty('id', 'currentPassword-error');
    expect(document.activeElement).toBe(screen.getByLabelText('Current password'));
    expect(screen.getByRole('alert').textContent).toBe('');
    const [req] = server.requests;
    expect(req?.variables).toEqual({ input: { currentPassword: 'correct horse battery staple 7', newPassword: 'correct horse battery staple 8' } });
    expect(req?.headers.get('authorization')).toBe('Bearer tok-1');
  });

  it('shows the password rules at the new password, with the registration hint', async () => {
    renderApp(
      '/account/password',
      fakeServer({ ChangePassword: () => gqlError('BAD_USER_INPUT', { field: 'newPassword' }, 'New password is too common; choose one that is harder to guess.') }),
      signedIn(),
    );
    await screen.findByRole('heading', { name: 'Change your password' });
    expect(screen.getByText(/^At least 8 characters/).id).toBe('newPassword-hint');
    expect(screen.getByLabelText('New password').getAttribute('autocomplete')).toBe('new-password');
    fill();
    press('Change password');
    expect(await screen.findByText('New password is too common; choose one that is harder to guess.')).toHaveProperty('id', 'newPassword-error');
    expect(document.activeElement).toBe(screen.getByLabelText('New password'));
  });

  it('holds the form while the account is blocked', async () => {
    const server = fakeServer({
      ChangePassword: () =>
        gqlError('RATE_LIMITED', { retryAfter: 120, reason: 'account_block' }, 'Too many failed attempts on this account. Try again in 2 minutes.'),
    });
    renderApp('/account/password', server, signedIn());
    await screen.findByRole('heading', { name: 'Change your password' });
    fill();
    press('Change password');
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toMatch(/^Too many failed attempts on this account\. Try again in (2:00|1:59)\.$/),
    );
    const button = screen.getByRole('button', { name: 'Change password' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(button);
    expect(server.requests).toHaveLength(1);
  });

  it('changes it and stays signed in, back on the account page with the news', async () => {
    const store = signedIn();
    const server = fakeServer({ ChangePassword: () => ({ data: { changePassword: { user } } }), Me: me });
    renderApp('/account/password', server, store);
    await screen.findByRole('heading', { name: 'Change your password' });
    fill();
    press('Change password');
    await screen.findByRole('heading', { name: 'Your account' });
    expect(screen.getAllByRole('status')[0]?.textContent).toBe('Your password was changed, and your other sessions were signed out.');
    expect(store.accessToken()).toBe('tok-1');
    await screen.findByText('ada@example.com');
  });
});

describe('ChangePhone', () => {
  const started: Reply = {
    data: {
      startPhoneChange: {
        
        changeToken: 'change-1',
        sentTo: '+1******0199',
        expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      },
    },
  };
  const moved = { ...user, phone: '+14155550199' };

  async function start(server: ReturnType<typeof fakeServer>, storage = memoryStorage()) {
    renderApp('/account/phone', server, signedIn(storage));
    await screen.findByRole('heading', { name: 'Change your phone number' });
    type('New phone number', '+1 (415) 555-0199');
    type('Password', 'correct horse battery staple 7');
    press('Send code');
  }

  it.each([
    ['the same number', gqlError('BAD_USER_INPUT', { field: 'newPhone' }, 'This is already your phone number.'), 'newPhone', 'This is already your phone number.'],
    ['a number of another account', gqlError('PHONE_TAKEN', { field: 'newPhone' }), 'newPhone', 'This phone number belongs to another account. Use another number.'],
    ['a wrong password', gqlError('INVALID_CREDENTIALS', { field: 'password' }), 'password', 'The password is wrong.'],
  ])('shows %s at its field', async (_name, reply, field, message) => {
    await start(fakeServer({ StartPhoneChange: () => reply }));
    expect(await screen.findByText(message)).toHaveProperty('id', `${field}-error`);
    expect(document.activeElement?.id).toBe(field);
  });

  it('texts the new number, checks its code, and shows the account with it', async () => {
    const storage = memoryStorage();
    let codes = 0;
    const server = fakeServer({
      StartPhoneChange: () => started,
      ConfirmPhoneChange: () =>
        ++codes === 1
          ? gqlError('INVALID_OTP', { attemptsLeft: 4, field: 'code' })
          : { data: { confirmPhoneChange: { user: moved } } },
      Me: () => ({ data: { me: moved } }),
    });
    await start(server, storage);
    await screen.findByRole('heading', { name: 'Enter the code' });
    expect(server.requests[0]?.variables).toEqual({ input: { newPhone: '+14155550199', password: 'correct horse battery staple 7' } });
    expect(screen.getByText('+1******0199').closest('p')?.textContent).toBe('We sent a code by text message to +1******0199, your new number.');
    const code = screen.getByLabelText('Code');
    expect(code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(document.activeElement).toBe(code);
    expect(webStorageText()).not.toContain('change-1');
    expect([...storage.items.values()].join()).not.toContain('change-1');

    type('Code', '000000');
    press('Confirm');
    expect(await screen.findByText('That code is wrong. You have 4 attempts left.')).toHaveProperty('id', 'code-error');
    expect(screen.getByLabelText('Code')).toHaveProperty('value', '000000');

    type('Code', '123 456');
    press('Confirm');
    await screen.findByRole('heading', { name: 'Your account' });
    expect(server.requests.filter((r) => r.operationName === 'ConfirmPhoneChange').map((r) => r.variables)).toEqual([
      { input: { changeToken: 'change-1', code: '000000' } },
      { input: { changeToken: 'change-1', code: '123456' } },
    ]);
    expect(screen.getAllByRole('status')[0]?.textContent).toBe('Your phone number is now +14155550199. Sign-in codes go to it from now on.');
    expect(await screen.findByText('+14155550199 (verified)')).toBeTruthy();
  });

  it('goes back to the number when another account confirmed it first', async () => {
    await start(fakeServer({ StartPhoneChange: () => started, ConfirmPhoneChange: () => gqlError('PHONE_TAKEN', { field: 'newPhone' }) }));
    await screen.findByRole('heading', { name: 'Enter the code' });
    type('Code', '123456');
    press('Confirm');
    await screen.findByRole('heading', { name: 'Change your phone number' });
    expect(screen.getByText(/belongs to another account/).id).toBe('newPhone-error');
    expect(screen.getByLabelText('New phone number')).toHaveProperty('value', '+1 (415) 555-0199');
    await waitFor(() => expect(document.activeElement?.id).toBe('newPhone'));
  });

  it.each([
    ['MFA_TOKEN_INVALID', gqlError('MFA_TOKEN_INVALID'), /expired or was already used/],
    ['the last attempt', gqlError('INVALID_OTP', { attemptsLeft: 0, field: 'code' }), /wrong too many times/],
  ])('starts again after %s', async (_name, reply, notice) => {
    await start(fakeServer({ StartPhoneChange: () => started, ConfirmPhoneChange: () => reply }));
    await screen.findByRole('heading', { name: 'Enter the code' });
    type('Code', '123456');
    press('Confirm');
    await screen.findByRole('heading', { name: 'Change your phone number' });
    expect(screen.getAllByRole('status')[0]?.textContent).toMatch(notice);
    expect(screen.getByLabelText('Password')).toHaveProperty('value', '');
  });

  it('"Use another number" drops the change', async () => {
    const server = fakeServer({ StartPhoneChange: () => started });
    await start(server);
    await screen.findByRole('heading', { name: 'Enter the code' });
    press('Use another number');
    await screen.findByRole('heading', { name: 'Change your phone number' });
    expect(operations(server)).toEqual(['StartPhoneChange']);
  });
});

describe('DeleteAccount', () => {
  it('asks for the box to be ticked before sending anything', async () => {
    const server = fakeServer({});
    renderApp('/account/delete', server, signedIn());
    await screen.findByRole('heading', { name: 'Delete your account' });
    type('Password', 'correct horse battery staple 7');
    press('Delete my account');
    const box = screen.getByRole('checkbox', { name: 'I understand that my account is deleted for good.' });
    expect(await screen.findByText(/^Tick this box/)).toHaveProperty('id', 'confirm-error');
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(box.getAttribute('aria-describedby')).toBe('confirm-error');
    expect(document.activeElement).toBe(box);
    expect(server.requests).toEqual([]);
  });

  it('shows a wrong password at its field and keeps the account', async () => {
    const store = signedIn();
    renderApp('/account/delete', fakeServer({ DeleteAccount: () => gqlError('INVALID_CREDENTIALS', { field: 'password' }) }), store);
    await screen.findByRole('heading', { name: 'Delete your account' });
    type('Password', 'not it');
    fireEvent.click(screen.getByRole('checkbox'));
    press('Delete my account');
    expect(await screen.findByText('The password is wrong.')).toHaveProperty('id', 'password-error');
    expect(document.activeElement).toBe(screen.getByLabelText('Password'));
    expect(store.accessToken()).toBe('tok-1');
  });

  it('deletes the account, forgets both tokens and says so on the sign-in page', async () => {
    const storage = memoryStorage();
    const store = signedIn(storage);
    const server = fakeServer({ DeleteAccount: () => ({ data: { deleteAccount: { ok: true } } }) });
    renderApp('/account/delete', server, store);
    await screen.findByRole('heading', { name: 'Delete your account' });
    type('Password', 'correct horse battery staple 7');
    fireEvent.click(screen.getByRole('checkbox'));
    press('Delete my account');
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Your account was deleted, and you are signed out.');
    const [req] = server.requests;
    expect(req?.variables).toEqual({ input: { password: 'correct horse battery staple 7' } });
    expect(req?.headers.get('authorization')).toBe('Bearer tok-1');
    // Nothing is left to log out of.
    expect(operations(server)).toEqual(['DeleteAccount']);
    expect(store.accessToken()).toBeNull();
    expect(storage.items.size).toBe(0);
  });
});
