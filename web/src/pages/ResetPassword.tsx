import { fieldErrors, messageFor, toTwostepError } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useFlow, type Reset } from '../flow';
import { digitsOnly } from '../input';
import { CodeExpiry, CodeField, FormAlert, NewPasswordField, Page, SubmitButton, focusFirst, useExpiry, useFormProblem } from '../ui';
import { type NavState } from './nav';

const fields = ['code', 'newPassword'] as const;
type FieldName = (typeof fields)[number];

/**
 * ResetPassword is a reset's second step: the code from the text message and
 * the new password. Without a reset in memory (a reload, a bookmark) there
 * is no resetToken, so the person asks for a code again.
 */
export function ResetPassword() {
  const { reset } = useFlow();
  if (reset) return <ResetForm reset={reset} />;
  const state: NavState = { notice: 'To reset your password, ask for a code first.' };
  return <Navigate to="/forgot-password" replace state={state} />;
}

function ResetForm({ reset }: { reset: Reset }) {
  const navigate = useNavigate();
  const { resetPassword } = useTwostep();
  const [busy, setBusy] = useState(false);
  const [values, setValues] = useState<Record<FieldName, string>>({ code: '', newPassword: '' });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const form = useFormProblem();
  const codeInput = useRef<HTMLInputElement>(null);
  const secondsLeft = useExpiry(reset.expiresAt);
  const again: NavState = { email: reset.email };

  const set = (name: FieldName) => (e: { target: { value: string } }) => setValues({ ...values, [name]: e.target.value });

  // The page that asks for a code drops this reset when it opens.
  function restart(notice: string) {
    const state: NavState = { notice, email: reset.email };
    navigate('/forgot-password', { replace: true, state });
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    setBusy(true);
    try {
      await resetPassword({ resetToken: reset.resetToken, code: digitsOnly(values.code), newPassword: values.newPassword });
      // The reset ended every session and signed nobody in: the person signs
      // in with the new password, which also proves they know it. The sign-in
      // page drops the reset.
      const state: NavState = { notice: 'Your password was changed. Sign in with the new one.', email: reset.email };
      navigate('/login', { replace: true, state });
    } catch (caught) {
      setBusy(false);
      const err = toTwostepError(caught);
      if (err.has('MFA_TOKEN_INVALID') || err.errors.some((d) => 'field' in d && d.field === 'resetToken')) {
        restart(messageFor({ code: 'MFA_TOKEN_INVALID', step: 'passwordReset', message: '' }));
        return;
      }
      if (err.attemptsLeft === 0) {
        restart('That code was wrong too many times. Start again to get a new code.');
        return;
      }
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      // A wrong code stays, selected, as on the sign-in code step.
      if (split.fields.code) codeInput.current?.select();
    }
  }

  return (
    <Page title="Choose a new password" focusHeading={false}>
      {/* The server answers alike for every email, so this is all it can honestly say. */}
      <p>
        If an account with a verified phone uses <strong className="nowrap">{reset.email}</strong>, we are sending it a code
        by text message.
      </p>
      <CodeExpiry secondsLeft={secondsLeft}>
        The code has expired.{' '}
        <Link to="/forgot-password" state={again}>
          Start again
        </Link>{' '}
        to get a new one.
      </CodeExpiry>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <CodeField inputRef={codeInput} enterKeyHint="next" value={values.code} onChange={set('code')} error={errors.code} />
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
        No code? <Link to="/forgot-password" state={again}>Start again</Link>, or check the email.
      </p>
    </Page>
  );
}
