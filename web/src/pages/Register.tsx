import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { problemsOf, splitByField, type Problem } from '../errors';
import { REGISTER } from '../graphql';
import { normalizePhone } from '../input';
import { Field, FormAlert, NewPasswordField, Page, SubmitButton, focusFirst, useRetryGate } from '../ui';

const fields = ['email', 'password', 'phone'] as const;
type FieldName = (typeof fields)[number];

/**
 * Register creates an account. It does not sign in: the person then signs in
 * like any other time, which is also when the phone number is first proven.
 * Input rules (email form, password length, common passwords, E.164) are the
 * server's; this page shows its answer at the field it names rather than
 * repeating the rules here and drifting from them.
 */
export function Register() {
  const navigate = useNavigate();
  const [register, { loading }] = useMutation(REGISTER);
  const [values, setValues] = useState<Record<FieldName, string>>({ email: '', password: '', phone: '' });
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    const email = values.email.trim();
    try {
      await register({ variables: { input: { email, password: values.password, phone: normalizePhone(values.phone) } } });
      navigate('/login', { state: { notice: 'Your account is ready. Sign in to continue.', email } });
    } catch (err) {
      const problems = problemsOf(err);
      const split = splitByField(problems, fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  return (
    <Page title="Create an account">
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={values.email}
          onChange={set('email')}
          error={fieldErrors.email}
        />
        <NewPasswordField
          id="password"
          label="Password"
          value={values.password}
          onChange={set('password')}
          error={fieldErrors.password}
        />
        <Field
          id="phone"
          label="Mobile phone number"
          type="tel"
          autoComplete="tel"
          required
          hint="With + and the country code, for example +1 415 555 0123. We text a sign-in code to it."
          value={values.phone}
          onChange={set('phone')}
          error={fieldErrors.phone}
        />
        <SubmitButton label="Create account" busyLabel="Creating account…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      <p>
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </Page>
  );
}
