import { useMutation } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth';
import { problemsOf, splitByField, type Problem } from '../errors';
import { LOGIN } from '../graphql';
import { Field, FormAlert, Notice, Page, SubmitButton, focusFirst, useRetryGate } from '../ui';
import { type NavState } from './nav';

const fields = ['email', 'password'] as const;
type FieldName = (typeof fields)[number];

/**
 * Login is the password step. Success sends a code by SMS and moves on to
 * the code step with the challenge held in memory (see auth.tsx). A
 * finished password reset lands here too, with its notice.
 */
export function Login() {
  const navigate = useNavigate();
  const state = useLocation().state as NavState | null;
  const { startChallenge, endChallenge, endReset } = useAuth();
  const [login, { loading }] = useMutation(LOGIN);
  const [values, setValues] = useState<Record<FieldName, string>>({ email: state?.email ?? '', password: '' });
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();

  // Back on the password step, any earlier code step or password reset is
  // over: its token must not outlive the one screen it was for.
  useEffect(() => {
    endChallenge();
    endReset();
  }, [endChallenge, endReset]);

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    try {
      const email = values.email.trim();
      const { data } = await login({ variables: { input: { email, password: values.password } } });
      if (!data) throw new Error('login: no data');
      const { mfaToken, channel, sentTo, expiresAt } = data.login;
      startChallenge({ mfaToken, channel, sentTo, expiresAt, email, sentAt: Date.now() });
      navigate('/verify');
    } catch (err) {
      const split = splitByField(problemsOf(err), fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  // Only the notice that brought us here is shown; once the person submits,
  // the form's own answer takes over.
  const notice = formProblem || Object.keys(fieldErrors).length > 0 ? undefined : state?.notice;

  return (
    <Page title="Sign in">
      <Notice>{notice}</Notice>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={values.email}
          onChange={set('email')}
          error={fieldErrors.email}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={values.password}
          onChange={set('password')}
          error={fieldErrors.password}
        />
        <SubmitButton label="Sign in" busyLabel="Sending code…" busy={loading} waitSeconds={gate.secondsLeft} />
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
