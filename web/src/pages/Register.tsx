import { fieldErrors } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useFlow } from '../flow';
import { normalizePhone } from '../input';
import { Field, FormAlert, NewPasswordField, Page, PhoneField, SubmitButton, focusFirst, useFormProblem } from '../ui';
import { type NavState } from './nav';

const fields = ['email', 'password', 'phone'] as const;
type FieldName = (typeof fields)[number];

/**
 * Register creates an account, then goes on to the code step: it signs in
 * with the password just typed (held in this form's state for that one
 * call, as it was for register), which is also when the phone number is
 * first proven. Input rules (email form, password length, common passwords,
 * a mobile number) are the server's; this page shows its answer at the
 * field it names rather than repeating the rules here and drifting from them.
 */
export function Register() {
  const navigate = useNavigate();
  const { register, login } = useTwostep();
  const { startChallenge } = useFlow();
  const [busy, setBusy] = useState<'register' | 'login' | null>(null);
  const [values, setValues] = useState<Record<FieldName, string>>({ email: '', password: '', phone: '' });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const form = useFormProblem();

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy !== null || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    const email = values.email.trim();
    setBusy('register');
    try {
      await register({ email, password: values.password, phone: normalizePhone(values.phone) });
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(null);
      return;
    }
    setBusy('login');
    try {
      const challenge = await login({ email, password: values.password });
      startChallenge({ ...challenge, email, sentAt: Date.now() });
      // replace: Back from the code step must not offer to register again.
      navigate('/verify', { replace: true });
    } catch {
      // The account exists; only the code did not go out (a limit, an
      // outage). Signing in asks for one again, and says what is wrong.
      const state: NavState = { notice: 'Your account is ready. Sign in to continue.', email };
      navigate('/login', { replace: true, state });
    }
  }

  return (
    <Page title="Create an account">
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={values.email}
          onChange={set('email')}
          error={errors.email}
        />
        <NewPasswordField id="password" label="Password" value={values.password} onChange={set('password')} error={errors.password} />
        <PhoneField id="phone" label="Phone number" value={values.phone} onChange={set('phone')} error={errors.phone} />
        <SubmitButton
          label="Create account"
          busyLabel={busy === 'login' ? 'Sending code…' : 'Creating account…'}
          busy={busy !== null}
          waiting={form.waitSeconds > 0}
        />
      </form>
      <p>
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </Page>
  );
}
