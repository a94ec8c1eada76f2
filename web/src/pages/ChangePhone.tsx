import { useMutation } from '@apollo/client/react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { hasCode, problemsOf, splitByField, type Problem } from '../errors';
import { CONFIRM_PHONE_CHANGE, START_PHONE_CHANGE, type PhoneChange } from '../graphql';
import { digitsOnly, normalizePhone } from '../input';
import { CodeExpiry, CodeField, Field, FormAlert, Notice, Page, SubmitButton, focusFirst, useExpiry, useRetryGate } from '../ui';
import { type NavState } from './nav';
import { RequireSession } from './RequireSession';

const fields = ['newPhone', 'password'] as const;
type FieldName = (typeof fields)[number];

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
  const [start, { loading }] = useMutation(START_PHONE_CHANGE);
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>(back.fieldErrors ?? {});
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const [answered, setAnswered] = useState(false);
  const gate = useRetryGate();

  // Coming back from the code step with a problem at a field: once this
  // page has mounted (and Page has focused its heading), focus that field.
  useEffect(() => {
    focusFirst(fields.filter((f) => back.fieldErrors?.[f]));
  }, [back]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setFieldErrors({});
    setFormProblem(null);
    setAnswered(true);
    try {
      const { data } = await start({ variables: { input: { newPhone: normalizePhone(newPhone), password } } });
      if (!data) throw new Error('startPhoneChange: no data');
      onSent(data.startPhoneChange);
    } catch (err) {
      const split = splitByField(problemsOf(err), fields);
      setFieldErrors(split.fieldErrors);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      focusFirst(fields.filter((f) => split.fieldErrors[f]));
    }
  }

  return (
    <Page title="Change your phone number">
      <Notice>{answered ? undefined : back.notice}</Notice>
      <p>We text a code to the new number to check that it is yours. Sign-in codes go to it once you enter that code.</p>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="newPhone"
          label="New mobile phone number"
          type="tel"
          autoComplete="tel"
          required
          hint="With + and the country code, for example +1 415 555 0123."
          value={newPhone}
          onChange={(e) => setNewPhone(e.target.value)}
          error={fieldErrors.newPhone}
        />
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
        <SubmitButton label="Send code" busyLabel="Sending code…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      <p>
        <Link to="/account">Back to your account</Link>
      </p>
    </Page>
  );
}

function ConfirmStep({ change, onBack }: { change: PhoneChange; onBack(b: Back): void }) {
  const navigate = useNavigate();
  const [confirm, { loading }] = useMutation(CONFIRM_PHONE_CHANGE);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();
  const input = useRef<HTMLInputElement>(null);
  const secondsLeft = useExpiry(change.expiresAt);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setCodeError(undefined);
    setFormProblem(null);
    const digits = digitsOnly(code);
    if (digits === '') {
      setCodeError('Enter the code from the text message.');
      input.current?.focus();
      return;
    }
    try {
      const { data } = await confirm({ variables: { input: { changeToken: change.changeToken, code: digits } } });
      if (!data) throw new Error('confirmPhoneChange: no data');
      const state: NavState = { notice: `Your phone number is now ${data.confirmPhoneChange.user.phone}. Sign-in codes go to it from now on.` };
      navigate('/account', { replace: true, state });
    } catch (err) {
      const problems = problemsOf(err);
      if (hasCode(problems, 'MFA_TOKEN_INVALID') || problems.some((p) => p.field === 'changeToken')) {
        onBack({ notice: 'This phone number change has expired or was already used. Start again to get a new code.' });
        return;
      }
      if (problems.some((p) => p.code === 'INVALID_OTP' && p.attemptsLeft === 0)) {
        onBack({ notice: 'That code was wrong too many times. Start again to get a new code.' });
        return;
      }
      // Another account confirmed the number first: it is the number to fix.
      const taken = problems.find((p) => p.code === 'PHONE_TAKEN');
      if (taken) {
        onBack({ fieldErrors: { newPhone: taken.message } });
        return;
      }
      const split = splitByField(problems, ['code'] as const);
      setCodeError(split.fieldErrors.code);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      if (split.fieldErrors.code) {
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
        <FormAlert>{formProblem?.message}</FormAlert>
        <CodeField inputRef={input} enterKeyHint="done" value={code} onChange={(e) => setCode(e.target.value)} error={codeError} />
        <SubmitButton label="Confirm" busyLabel="Checking…" busy={loading} waitSeconds={gate.secondsLeft} />
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
