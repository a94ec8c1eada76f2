import { fieldErrors } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { Field, FormAlert, NewPasswordField, Page, SubmitButton, focusFirst, useFormProblem } from '../ui';
import { type NavState } from './nav';
import { RequireSession } from './RequireSession';

const fields = ['currentPassword', 'newPassword'] as const;
type FieldName = (typeof fields)[number];

/**
 * ChangePassword sets a new password for a signed-in person who knows the
 * current one. The server ends their other sessions; this one stays.
 */
export function ChangePassword() {
  return (
    <RequireSession>
      <ChangePasswordForm />
    </RequireSession>
  );
}

function ChangePasswordForm() {
  const navigate = useNavigate();
  const { changePassword } = useTwostep();
  const [busy, setBusy] = useState(false);
  const [values, setValues] = useState<Record<FieldName, string>>({ currentPassword: '', newPassword: '' });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const form = useFormProblem();

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    setBusy(true);
    try {
      await changePassword(values);
      const state: NavState = { notice: 'Your password was changed, and your other sessions were signed out.' };
      // replace: Back must not return to a form holding both passwords.
      navigate('/account', { replace: true, state });
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(false);
    }
  }

  return (
    <Page title="Change your password">
      <p>Every other device signed in to your account is signed out. This one stays signed in.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <Field
          id="currentPassword"
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={values.currentPassword}
          onChange={set('currentPassword')}
          error={errors.currentPassword}
        />
        <NewPasswordField
          id="newPassword"
          label="New password"
          value={values.newPassword}
          onChange={set('newPassword')}
          error={errors.newPassword}
        />
        <SubmitButton label="Change password" busyLabel="Changing password…" busy={busy} waiting={form.waitSeconds > 0} />
      </form>
      <p>
        <Link to="/account">Back to your account</Link>
      </p>
    </Page>
  );
}
