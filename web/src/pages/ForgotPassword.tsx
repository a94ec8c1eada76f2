import { useMutation } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth';
import { problemsOf, splitByField, type Problem } from '../errors';
import { REQUEST_PASSWORD_RESET } from '../graphql';
import { Field, FormAlert, Notice, Page, SubmitButton, focusFirst, useRetryGate } from '../ui';
import { type NavState } from './nav';

const fields = ['email'] as const;

/**
 * ForgotPassword starts a password reset. The server answers the same for
 * every email, so this page cannot tell whether a code was sent, and says
 * so on the next one; the reset is held in memory (see auth.tsx) like a
 * login's challenge.
 */
export function ForgotPassword() {
  const navigate = useNavigate();
  const state = useLocation().state as NavState | null;
  const { startReset, endReset } = useAuth();
  const [request, { loading }] = useMutation(REQUEST_PASSWORD_RESET);
  const [email, setEmail] = useState(state?.email ?? '');
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<'email', string>>>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();

  // Asking again replaces an earlier reset, whose token must not linger.
  useEffect(() => endReset(), [endReset]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    const address = email.trim();
    try {
      const { data } = await request({ variables: { input: { email: address } } });
      if (!data) throw new Error('requestPasswordReset: no data');
      startReset({ ...data.requestPasswordReset, email: address });
      navigate('/reset-password');
    } catch (err) {
      const split = splitByField(problemsOf(err), fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  const notice = formProblem || fieldErrors.email ? undefined : state?.notice;
  return (
    <Page title="Reset your password">
      <Notice>{notice}</Notice>
      <p>Enter the email you sign in with. We text a code to the account's phone, then you choose a new password.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldErrors.email}
        />
        <SubmitButton label="Send code" busyLabel="Sending code…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      <p>
        Remembered it? <Link to="/login" state={{ email: email.trim() } satisfies NavState}>Sign in</Link>
      </p>
    </Page>
  );
}
