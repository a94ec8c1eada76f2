import { fieldErrors } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useFlow } from '../flow';
import { Field, FormAlert, Notice, Page, SubmitButton, focusFirst, useFormProblem } from '../ui';
import { type NavState } from './nav';

const fields = ['email', 'password'] as const;
type FieldName = (typeof fields)[number];

/**
 * Login is the password step. Success sends a code by SMS and moves on to
 * the code step with the challenge held in memory (see flow.tsx). A
 * finished password reset lands here too, with its notice.
 */
export function Login() {
  const navigate = useNavigate();
  const state = useLocation().state as NavState | null;
  const { login } = useTwostep();
  const { startChallenge, endChallenge, endReset } = useFlow();
  const [busy, setBusy] = useState(false);
  const [values, setValues] = useState<Record<FieldName, string>>({ email: state?.email ?? '', password: '' });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const form = useFormProblem();

  // Back on the password step, any earlier code step or password reset is
  // over: its token must not outlive the one screen it was for.
  useEffect(() => {
    endChallenge();
    endReset();
  }, [endChallenge, endReset]);

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    setBusy(true);
    try {
      const email = values.email.trim();
      const challenge = await login({ email, password: values.password });
      startChallenge({ ...challenge, email, sentAt: Date.now() });
      navigate('/verify');
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(false);
    }
  }

  // Only the notice that brought us here is shown; once the person submits,
  // the form's own answer takes over.
  const notice = form.problem || Object.keys(errors).length > 0 ? undefined : state?.notice;

  return (
    <Page title="Sign in">
      <Notice>{notice}</Notice>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={values.email}
          onChange={set('email')}
          error={errors.email}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={values.password}
          onChange={set('password')}
          error={errors.password}
        />
        <SubmitButton label="Sign in" busyLabel="Sending code…" busy={busy} waiting={form.waitSeconds > 0} />
      </form>
      <p>
        <Link to="/forgot-password" state={{ email: values.email.trim() } satisfies NavState}>
          Forgot password?
        </Link>
      </p>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </Page>
  );
}
