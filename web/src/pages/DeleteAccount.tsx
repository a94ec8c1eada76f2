import { fieldErrors } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Checkbox, Field, FormAlert, Page, SubmitButton, focusFirst, useFormProblem } from '../ui';
import { RequireSession } from './RequireSession';

const fields = ['password', 'confirm'] as const;
type FieldName = (typeof fields)[number];

/**
 * DeleteAccount deletes the signed-in person's account, after the password
 * and a ticked box saying they mean it. The server ends every session at
 * once and the SDK forgets the tokens (no logout: there is nothing left to
 * log out of), so RequireSession takes the person to the sign-in page with
 * the news.
 */
export function DeleteAccount() {
  return (
    <RequireSession>
      <DeleteForm />
    </RequireSession>
  );
}

function DeleteForm() {
  const { deleteAccount } = useTwostep();
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const form = useFormProblem();
  const box = useRef<HTMLInputElement>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    if (!confirmed) {
      // Checked here: nothing is sent until the person has said they mean it.
      setErrors({ confirm: 'Tick this box to confirm that you want your account deleted.' });
      box.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await deleteAccount({ password });
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(false);
    }
  }

  return (
    <Page title="Delete your account">
      <p>
        This deletes your account and signs you out everywhere, at once. It cannot be undone. Your email and phone number can
        then be used for a new account.
      </p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          hint="Your password, to check that it is you."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <Checkbox
          id="confirm"
          label="I understand that my account is deleted for good."
          inputRef={box}
          checked={confirmed}
          onChange={(e) => setConfirmed(e.target.checked)}
          error={errors.confirm}
        />
        <SubmitButton
          className="danger"
          label="Delete my account"
          busyLabel="Deleting your account…"
          busy={busy}
          waiting={form.waitSeconds > 0}
        />
      </form>
      <p>
        <Link to="/account">Keep my account</Link>
      </p>
    </Page>
  );
}
