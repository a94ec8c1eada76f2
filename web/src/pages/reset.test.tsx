// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenStore } from '@twostep/client';
import { fakeServer, gqlError, memoryStorage, press, renderApp, type, webStorageText, type Handler, type Reply } from '../testing';

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});

const requested: Reply = {
  data: {
    requestPasswordReset: {
      
      resetToken: 'reset-1',
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    },
  },
};

const done: Reply = { data: { resetPassword: { ok: true } } };

/** toResetPage goes from the sign-in page's link to the code and new password page. */
async function toResetPage(handlers: Record<string, Handler>) {
  const storage = memoryStorage();
  const server = fakeServer({ RequestPasswordReset: () => requested, ...handlers });
  const app = renderApp('/login', server, createTokenStore({ storage }));
  type('Email', ' ada@example.com ');
  fireEvent.click(screen.getByRole('link', { name: 'Forgot password?' }));
  await screen.findByRole('heading', { name: 'Reset your password' });
  press('Send code');
  await screen.findByRole('heading', { name: 'Choose a new password' });
  return { server, storage, ...app };
}

describe('ForgotPassword', () => {
  it('is linked from the sign-in page, with the email typed there', async () => {
    renderApp('/login', fakeServer({}));
    type('Email', 'ada@example.com');
    fireEvent.click(screen.getByRole('link', { name: 'Forgot password?' }));
    await screen.findByRole('heading', { name: 'Reset your password' });
    expect(screen.getByLabelText('Email')).toHaveProperty('value', 'ada@example.com');
  });

  it('shows a bad email at the field', async () => {
    renderApp(
      '/forgot-password',
      fakeServer({ RequestPasswordReset: () => gqlError('BAD_USER_INPUT', { field: 'email' }, 'email must be a valid address') }),
    );
    press('Send code');
    expect(await screen.findByText('Email must be a valid address.')).toHaveProperty('id', 'email-error');
    expect(document.activeElement).toBe(screen.getByLabelText('Email'));
  });

  it('holds the form for the wait of a RATE_LIMITED answer', async () => {
    const server = fakeServer({
      RequestPasswordReset: () =>
        gqlError('RATE_LIMITED', { retryAfter: 3600, reason: 'reset_per_email' }, 'Too many password resets for this email. Try again in 1 hour.'),
    });
    renderApp('/forgot-password', server);
    type('Email', 'ada@example.com');
    press('Send code');
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toMatch(/^Too many password resets for this email\. Try again in (1:00:00|59:59)\.$/),
    );
    const button = screen.getByRole('button', { name: 'Send code' });
    expect(button.getAttribute('aria-disabled')).toBe('true');
    fireEvent.click(button);
    expect(server.requests).toHaveLength(1);
  });
});

describe('ResetPassword', () => {
  it('says honestly where the code went, with the resetToken in memory only', async () => {
    const { server, storage } = await toResetPage({});
    expect(server.requests[0]?.variables).toEqual({ input: { email: 'ada@example.com' } });
    expect(server.requests[0]?.headers.get('authorization')).toBeNull();
    expect(screen.getByText('ada@example.com').closest('p')?.textContent).toBe(
      'If an account with a verified phone uses ada@example.com, we are sending it a code by text message.',
    );
    expect(document.getElementById('code-expiry')?.textContent).toMatch(/^(10:00|9:5\d)$/);
    const code = screen.getByLabelText('Code');
    expect(code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(document.activeElement).toBe(code);
    const password = screen.getByLabelText('New password');
    expect(password.getAttribute('autocomplete')).toBe('new-password');
    expect(screen.getByText(/^At least 8 characters/).id).toBe('newPassword-hint');
    expect(webStorageText()).not.toContain('reset-1');
    expect(storage.items.size).toBe(0);
  });

  it('shows each problem at its field: the password rules and the code format', async () => {
    await toResetPage({
      ResetPassword: () => ({
        data: null,
        errors: [
          { message: 'Code must be 4 to 10 digits.', extensions: { code: 'BAD_USER_INPUT', field: 'code' } },
          { message: 'New password must be at least 8 characters long.', extensions: { code: 'BAD_USER_INPUT', field: 'newPassword' } },
        ],
      }),
    });
    type('Code', '12');
    type('New password', 'short');
    press('Change password');
    expect(await screen.findByText('New password must be at least 8 characters long.')).toHaveProperty('id', 'newPassword-error');
    expect(screen.getByText('Code must be 4 to 10 digits.').id).toBe('code-error');
    expect(document.activeElement).toBe(screen.getByLabelText('Code'));
  });

  it('shows a wrong code with its attempts left and keeps it', async () => {
    const { server } = await toResetPage({ ResetPassword: () => gqlError('INVALID_OTP', { attemptsLeft: 2, field: 'code' }) });
    type('Code', '111-111');
    type('New password', 'correct horse battery staple 8');
    press('Change password');
    expect(await screen.findByText('That code is wrong. You have 2 attempts left.')).toHaveProperty('id', 'code-error');
    expect(screen.getByLabelText('Code')).toHaveProperty('value', '111-111');
    expect(server.requests.at(-1)?.variables).toEqual({
      input: { resetToken: 'reset-1', code: '111111', newPassword: 'correct horse battery staple 8' },
    });
  });

  it('sends the person to sign in with the new password, which it does not do for them', async () => {
    const { server, storage } = await toResetPage({ ResetPassword: () => done });
    type('Code', '123456');
    type('New password', 'correct horse battery staple 8');
    press('Change password');
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.getByRole('status').textContent).toBe('Your password was changed. Sign in with the new one.');
    expect(screen.getByLabelText('Email')).toHaveProperty('value', 'ada@example.com');
    expect(server.requests.find((r) => r.operationName === 'ResetPassword')?.headers.get('authorization')).toBeNull();
    expect(storage.items.size).toBe(0);
    expect(webStorageText()).not.toContain('reset-1');
  });

  it.each([
    ['MFA_TOKEN_INVALID', gqlError('MFA_TOKEN_INVALID'), /expired or was already used/],
    ['the last attempt', gqlError('INVALID_OTP', { attemptsLeft: 0, field: 'code' }), /wrong too many times/],
  ])('starts again after %s, the email kept', async (_name, reply, notice) => {
    await toResetPage({ ResetPassword: () => reply });
    type('Code', '123456');
    type('New password', 'correct horse battery staple 8');
    press('Change password');
    await screen.findByRole('heading', { name: 'Reset your password' });
    expect(screen.getByRole('status').textContent).toMatch(notice);
    expect(screen.getByLabelText('Email')).toHaveProperty('value', 'ada@example.com');
  });

  it('without a reset in memory (a reload) asks for a code first', async () => {
    renderApp('/reset-password', fakeServer({}));
    await screen.findByRole('heading', { name: 'Reset your password' });
    expect(screen.getByRole('status').textContent).toBe('To reset your password, ask for a code first.');
  });
});
