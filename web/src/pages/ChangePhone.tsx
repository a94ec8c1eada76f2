import { fieldErrors, messageFor, toTwostepError, type TwostepClient } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { digitsOnly, normalizePhone } from '../input';
import { CodeExpiry, CodeField, Field, FormAlert, Notice, Page, PhoneField, SubmitButton, focusFirst, useExpiry, useFormProblem } from '../ui';
import { type NavState } from './nav';
import { RequireSession } from './RequireSession';

const fields = ['newPhone', 'password'] as const;
type FieldName = (typeof fields)[number];

/** PhoneChange is startPhoneChange's answer: the changeToken, where the code went, and until when. */
type PhoneChange = Awaited<ReturnType<TwostepClient['startPhoneChange']>>;

/**
 * ChangePhone moves the account to a new number in two steps on one page:
 * the number and the password, then the code texted to that number. The
 * changeToken lives in this page's state only, like a login's mfaToken:
 * leaving the page, or a reload, drops the change, and nothing about the
 * account changes until the code is confirmed.
 */
export function ChangePhone() {
  return (
    <RequireSession>
      <ChangePhoneSteps />
    </RequireSession>
  );
}

/** Back is why the code step sent the person back to the first one. */
interface Back {
  notice?: string;
  fieldErrors?: Partial<Record<FieldName, string>>;
}

function ChangePhoneSteps() {
  const [pending, setPending] = useState<PhoneChange | null>(null);
  const [back, setBack] = useState<Back>({});
  const [newPhone, setNewPhone] = useState('');
  if (pending) {
    return (
      <ConfirmStep
        change={pending}
        onBack={(b) => {
          setBack(b);
          setPending(null);
        }}
      />
    );
  }
  return (
    <StartStep
      newPhone={newPhone}
      setNewPhone={setNewPhone}
      back={back}
      onSent={(change) => {
        setBack({});
        setPending(change);
      }}
    />
  );
}

function StartStep({
  newPhone,
  setNewPhone,
  back,
  onSent,
}: {
  newPhone: string;
  setNewPhone(v: string): void;
  back: Back;
  onSent(change: PhoneChange): void;
}) {
  const { startPhoneChange } = useTwostep();
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>(back.fieldErrors ?? {});
  const form = useFormProblem();
  const [answered, setAnswered] = useState(false);

  // Coming back from the code step with a problem at a field: once this
  // page has mounted (and Page has focused its heading), focus that field.
  useEffect(() => {
    focusFirst(fields.filter((f) => back.fieldErrors?.[f]));
  }, [back]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setErrors({});
    form.show(null);
    setAnswered(true);
    setBusy(true);
    try {
      onSent(await startPhoneChange({ newPhone: normalizePhone(newPhone), password }));
    } catch (err) {
      const split = fieldErrors(err, fields);
      setErrors(split.fields);
      form.show(split.form);
      focusFirst(fields.filter((f) => split.fields[f]));
      setBusy(false);
    }
  }

  return (
    <Page title="Change your phone number">
      <Notice>{answered ? undefined : back.notice}</Notice>
      <p>We text a code to the new number to check that it is yours. Sign-in codes go to it once you enter that code.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <PhoneField id="newPhone" label="New phone number" value={newPhone} onChange={(e) => setNewPhone(e.target.value)} error={errors.newPhone} />
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
        <SubmitButton label="Send code" busyLabel="Sending code…" busy={busy} waiting={form.waitSeconds > 0} />
      </form>
      <p>
        <Link to="/account">Back to your account</Link>
      </p>
    </Page>
  );
}

function ConfirmStep({ change, onBack }: { change: PhoneChange; onBack(b: Back): void }) {
  const navigate = useNavigate();
  const { confirmPhoneChange } = useTwostep();
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const form = useFormProblem();
  const input = useRef<HTMLInputElement>(null);
  const secondsLeft = useExpiry(change.expiresAt);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setCodeError(undefined);
    form.show(null);
    const digits = digitsOnly(code);
    if (digits === '') {
      setCodeError('Enter the code from the text message.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const { user } = await confirmPhoneChange({ changeToken: change.changeToken, code: digits });
      const state: NavState = { notice: `Your phone number is now ${user.phone}. Sign-in codes go to it from now on.` };
      navigate('/account', { replace: true, state });
    } catch (caught) {
      setBusy(false);
      const err = toTwostepError(caught);
      if (err.has('MFA_TOKEN_INVALID') || err.errors.some((d) => 'field' in d && d.field === 'changeToken')) {
        onBack({ notice: messageFor({ code: 'MFA_TOKEN_INVALID', step: 'phoneChange', message: '' }) });
        return;
      }
      if (err.attemptsLeft === 0) {
        onBack({ notice: 'That code was wrong too many times. Start again to get a new code.' });
        return;
      }
      // Another account confirmed the number first: it is the number to fix.
      const taken = err.find('PHONE_TAKEN');
      if (taken) {
        onBack({ fieldErrors: { newPhone: messageFor(taken) } });
        return;
      }
      const split = fieldErrors(err, ['code'] as const);
      setCodeError(split.fields.code);
      form.show(split.form);
      if (split.fields.code) {
        input.current?.focus();
        input.current?.select();
      }
    }
  }

  return (
    <Page title="Enter the code" focusHeading={false}>
      <p>
        We sent a code by text message to <strong className="nowrap">{change.sentTo}</strong>, your new number.
      </p>
      <CodeExpiry secondsLeft={secondsLeft}>
        The code has expired.{' '}
        <button type="button" className="link" onClick={() => onBack({})}>
          Start again
        </button>{' '}
        to get a new one.
      </CodeExpiry>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{form.message}</FormAlert>
        <CodeField inputRef={input} enterKeyHint="done" value={code} onChange={(e) => setCode(e.target.value)} error={codeError} />
        <SubmitButton label="Confirm" busyLabel="Checking…" busy={busy} waiting={form.waitSeconds > 0} />
      </form>
      <p>
        No code, or the wrong number?{' '}
        <button type="button" className="link" onClick={() => onBack({})}>
          Use another number
        </button>
      </p>
    </Page>
  );
}
