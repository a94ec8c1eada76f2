import { useMutation } from '@apollo/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useAuth, type Challenge } from '../auth';
import { hasCode, messageFor, problemsOf, splitByField, type Problem } from '../errors';
import { VERIFY_OTP } from '../graphql';
import { digitsOnly } from '../input';
import { Field, FormAlert, Page, SubmitButton, formatClock, useRetryGate, useSecondsLeft } from '../ui';
import { type NavState } from './nav';

/**
 * Verify is the code step. Without a challenge in memory (a reload, a
 * bookmark, or the step already finished) there is no mfaToken to send, so
 * the person goes back to the password step.
 */
export function Verify() {
  const { challenge, status } = useAuth();
  if (challenge) return <VerifyForm challenge={challenge} />;
  if (status !== 'signedOut') return <Navigate to="/welcome" replace />;
  const state: NavState = { notice: 'To get a code, sign in with your email and password first.' };
  return <Navigate to="/login" replace state={state} />;
}

function VerifyForm({ challenge }: { challenge: Challenge }) {
  const navigate = useNavigate();
  const { signIn } = useAuth();
  const [verify, { loading }] = useMutation(VERIFY_OTP);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const gate = useRetryGate();
  const again: NavState = { email: challenge.email };
  const input = useRef<HTMLInputElement>(null);

  const expiresAt = Date.parse(challenge.expiresAt);
  // The browser's clock may differ from the server's, so the countdown is a
  // guide: the form stays usable and the server has the last word.
  const secondsLeft = useSecondsLeft(Number.isNaN(expiresAt) ? null : expiresAt);

  // The login page drops the challenge when it opens (see Login); ending it
  // here first would make this page redirect on its own, without the notice.
  function restart(notice: string) {
    const state: NavState = { notice, email: challenge.email };
    navigate('/login', { replace: true, state });
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setCodeError(undefined);
    setFormProblem(null);
    const digits = digitsOnly(code);
    if (digits === '') {
      // Checked here so an empty submit cannot spend one of the attempts.
      setCodeError('Enter the code from the text message.');
      input.current?.focus();
      return;
    }
    try {
      const { data } = await verify({ variables: { input: { mfaToken: challenge.mfaToken, code: digits } } });
      if (!data) throw new Error('verifyOtp: no data');
      signIn(data.verifyOtp);
      // replace: Back from the welcome page must not return to a used code step.
      navigate('/welcome', { replace: true });
    } catch (err) {
      const problems = problemsOf(err);
      const bad = problems.find((p) => p.code === 'INVALID_OTP');
      if (hasCode(problems, 'MFA_TOKEN_INVALID') || problems.some((p) => p.field === 'mfaToken')) {
        restart(messageFor({ code: 'MFA_TOKEN_INVALID' }));
        return;
      }
      if (bad?.attemptsLeft === 0) {
        restart('That code was wrong too many times. Sign in again to get a new code.');
        return;
      }
      const split = splitByField(problems, ['code'] as const);
      setCodeError(split.fieldErrors.code);
      setFormProblem(split.formProblem);
      gate.note(split.formProblem?.retryAfter);
      if (split.fieldErrors.code) {
        setCode('');
        input.current?.focus();
      }
    }
  }

  return (
    <Page title="Enter your code" focusHeading={false}>
      <p>
        We sent a code by text message to <strong className="nowrap">{challenge.sentTo}</strong>.
      </p>
      {secondsLeft !== null && secondsLeft > 0 && (
        <p>
          It works for <span role="timer">{formatClock(secondsLeft)}</span> more.
        </p>
      )}
      <div role="status">
        {secondsLeft === 0 && (
          <p className="notice">
            The code has expired. <Link to="/login" state={again}>Sign in again</Link> to get a new one.
          </p>
        )}
      </div>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <Field
          id="code"
          label="Code"
          inputRef={input}
          // The code step is the whole point of this page, so start there.
          autoFocus
          autoComplete="one-time-code"
          inputMode="numeric"
          pattern="[0-9]*"
          enterKeyHint="done"
          maxLength={12}
          required
          className="code-input"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={codeError}
        />
        <SubmitButton label="Verify" busyLabel="Checking…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      <p>
        No text message? <Link to="/login" state={again}>Sign in again</Link> to send a new code.
      </p>
    </Page>
  );
}
