import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { problemsOf, splitByField, type Problem } from '../errors';
import { CHANGE_PASSWORD } from '../graphql';
import { Field, FormAlert, NewPasswordField, Page, SubmitButton, focusFirst, useRetryGate } from '../ui';
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
  const [changePassword, { loading }] = useMutation(CHANGE_PASSWORD);
  const [values, setValues] = useState<Record<FieldName, string>>({ currentPassword: '', newPassword: '' });
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    try {
      await changePassword({ variables: { input: values } });
      const state: NavState = { notice: 'Your password was changed, and your other sessions were signed out.' };
      // replace: Back must not return to a form holding both passwords.
      navigate('/account', { replace: true, state });
    } catch (err) {
      const split = splitByField(problemsOf(err), fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  return (
    <Page title="Change your password">
      <p>Every other device signed in to your account is signed out. This one stays signed in.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="currentPassword"
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={values.currentPassword}
          onChange={set('currentPassword')}
          error={fieldErrors.currentPassword}
        />
        <NewPasswordField
          id="newPassword"
          label="New password"
          value={values.newPassword}
          onChange={set('newPassword')}
          error={fieldErrors.newPassword}
        />
        <SubmitButton label="Change password" busyLabel="Changing password…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      <p>
        <Link to="/account">Back to your account</Link>
      </p>
    </Page>
  );
}
