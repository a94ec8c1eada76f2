import { fieldErrors } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useFlow } from '../flow';
import { Field, FormAlert, Notice, Page, SubmitButton, focusFirst, useFormProblem } from '../ui';
import { type NavState } from './nav';

const fields = ['email'] as const;

/**
 * ForgotPassword starts a password reset. The server answers the same for
 * every email, so this page cannot tell whether a code was sent, and says
 * so on the next one; the reset is held in memory (see flow.tsx) like a
 * login's challenge.
 */
export function ForgotPassword() {
  const navigate = useNavigate();
  const state = useLocation().state as NavState | null;
  const { requestPasswordReset } = useTwostep();
  const { startReset, endReset } = useFlow();
  const [busy, setBusy] = useState(false);
  const [email, setEmail] = useState(state?.email ?? '');
  const [errors, setErrors] = useState<Partial<Record<'email', string>>>({});
  const form = useFormProblem();

  // Asking again replaces an earlier reset, whose token must not linger.
  useEffect(() => endReset(), [endReset]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    const address = email.trim();
    setBusy(true);
    try {
      const reset = await requestPasswordReset({ email: address });
      startReset({ ...reset, email: address });
      navigate('/reset-password');
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(false);
    }
  }

  const notice = form.problem || errors.email ? undefined : state?.notice;
  return (
    <Page title="Reset your password">
      <Notice>{notice}</Notice>
      <p>Enter the email you sign in with. We text a code to the account's phone, then you choose a new password.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
        />
        <SubmitButton label="Send code" busyLabel="Sending code…" busy={busy} waiting={form.waitSeconds > 0} />
      </form>
      <p>
        Remembered it? <Link to="/login" state={{ email: email.trim() } satisfies NavState}>Sign in</Link>
      </p>
    </Page>
  );
}
