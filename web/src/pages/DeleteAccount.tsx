import { useMutation } from '@apollo/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useAuth } from '../auth';
import { problemsOf, splitByField, type Problem } from '../errors';
import { DELETE_ACCOUNT } from '../graphql';
import { Checkbox, Field, FormAlert, Page, SubmitButton, focusFirst, useRetryGate } from '../ui';
import { RequireSession } from './RequireSession';

const fields = ['password', 'confirm'] as const;
type FieldName = (typeof fields)[number];

/**
 * DeleteAccount deletes the signed-in person's account, after the password
 * and a ticked box saying they mean it. The server ends every session at
 * once, so the tokens here are forgotten and RequireSession takes the
 * person to the sign-in page with the news.
 */
export function DeleteAccount() {
  return (
    <RequireSession>
      <DeleteForm />
    </RequireSession>
  );
}

function DeleteForm() {
  const { accountDeleted } = useAuth();
  const [deleteAccount, { loading }] = useMutation(DELETE_ACCOUNT);
  const [password, setPassword] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();
  const box = useRef<HTMLInputElement>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    if (!confirmed) {
      // Checked here: nothing is sent until the person has said they mean it.
      setFieldErrors({ confirm: 'Tick this box to confirm that you want your account deleted.' });
      box.current?.focus();
      return;
    }
    try {
      await deleteAccount({ variables: { input: { password } } });
      // No logout: the server has already ended every session of the account.
      accountDeleted();
    } catch (err) {
      const split = splitByField(problemsOf(err), fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  return (
    <Page title="Delete your account">
      <p>
        This deletes your account and signs you out everywhere, at once. It cannot be undone. Your email and phone number can
        then be used for a new account.
      </p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          hint="Your password, to check that it is you."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldErrors.password}
        />
        <Checkbox
          id="confirm"
          label="I understand that my account is deleted for good."
          inputRef={box}
          checked={confirmed}
          onChange={(e) => setConfirmed(e.target.checked)}
          error={fieldErrors.confirm}
        />
        <SubmitButton
          className="danger"
          label="Delete my account"
          busyLabel="Deleting your account…"
          busy={loading}
          waitSeconds={gate.secondsLeft}
        />
      </form>
      <p>
        <Link to="/account">Keep my account</Link>
      </p>
    </Page>
  );
}
