import { useMutation } from '@apollo/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useAuth, type Challenge } from '../auth';
import { hasCode, messageFor, problemsOf, splitByField, type Problem } from '../errors';
import { RESEND_OTP, VERIFY_OTP, type OtpChannel } from '../graphql';
import { digitsOnly } from '../input';
import { CodeExpiry, CodeField, FormAlert, Notice, Page, SubmitButton, formatClock, useExpiry, useRetryGate, useSecondsLeft } from '../ui';
import { type NavState } from './nav';

/**
 * resendCooldownSeconds is how long after a send the page waits before
 * offering another: the server's default per-number cooldown
 * (LIMIT_PHONE_COOLDOWN). A server set otherwise answers RATE_LIMITED with
 * its own wait, which then replaces this guess.
 */
const resendCooldownSeconds = 30;

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

// Where the code went, said the way the person received it.
function wentBy(channel: OtpChannel, sentTo: string) {
  const to = <strong className="nowrap">{sentTo}</strong>;
  switch (channel) {
    case 'CALL':
      return <>We called {to} to read out a code.</>;
    case 'WHATSAPP':
      return <>We sent a code by WhatsApp to {to}.</>;
    default:
      return <>We sent a code by text message to {to}.</>;
  }
}

const fromWhere: Record<OtpChannel, string> = {
  SMS: 'the text message',
  CALL: 'the call',
  WHATSAPP: 'the WhatsApp message',
};

function VerifyForm({ challenge }: { challenge: Challenge }) {
  const navigate = useNavigate();
  const { signIn, startChallenge } = useAuth();
  const [verify, { loading }] = useMutation(VERIFY_OTP);
  const [resendOtp] = useMutation(RESEND_OTP);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const [sending, setSending] = useState<OtpChannel | null>(null);
  const [news, setNews] = useState('');
  // The server's own wait, from a RATE_LIMITED answer to a resend (ms).
  const [retryUntil, setRetryUntil] = useState(0);
  const gate = useRetryGate();
  const again: NavState = { email: challenge.email };
  const input = useRef<HTMLInputElement>(null);

  const secondsLeft = useExpiry(challenge.expiresAt);
  const resendWait = useSecondsLeft(Math.max(challenge.sentAt + resendCooldownSeconds * 1000, retryUntil)) ?? 0;

  // The login page drops the challenge when it opens (see Login); ending it
  // here first would make this page redirect on its own, without the notice.
  function restart(notice: string) {
    const state: NavState = { notice, email: challenge.email };
    navigate('/login', { replace: true, state });
  }

  // A token the server no longer knows means the code step is over,
  // whichever button was pressed.
  function isOver(problems: Problem[]): boolean {
    return hasCode(problems, 'MFA_TOKEN_INVALID') || problems.some((p) => p.field === 'mfaToken');
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (loading || gate.secondsLeft > 0) return;
    setCodeError(undefined);
    setFormProblem(null);
    setNews('');
    const digits = digitsOnly(code);
    if (digits === '') {
      // Checked here so an empty submit cannot spend one of the attempts.
      setCodeError(`Enter the code from ${fromWhere[challenge.channel]}.`);
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
      if (isOver(problems)) {
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
        // The code stays, selected: one wrong digit is fixed in place, and a
        // new code typed over it.
        input.current?.focus();
        input.current?.select();
      }
    }
  }

  async function resend(channel: OtpChannel) {
    if (sending !== null || resendWait > 0) return;
    setSending(channel);
    setFormProblem(null);
    setNews('');
    try {
      const { data } = await resendOtp({ variables: { input: { mfaToken: challenge.mfaToken, channel } } });
      if (!data) throw new Error('resendOtp: no data');
      const { mfaToken, sentTo, expiresAt } = data.resendOtp;
      startChallenge({ ...challenge, mfaToken, channel: data.resendOtp.channel, sentTo, expiresAt, sentAt: Date.now() });
      // The server sends the same code again: one typed from the first
      // message still works.
      setNews(`${data.resendOtp.channel === 'CALL' ? 'We are calling you now.' : 'We sent the code again.'} It is the same code as before.`);
    } catch (err) {
      const problems = problemsOf(err);
      if (isOver(problems)) {
        restart(messageFor({ code: 'MFA_TOKEN_INVALID' }));
        return;
      }
      const problem = problems[0] ?? null;
      setFormProblem(problem);
      if (problem?.retryAfter !== undefined) setRetryUntil(Date.now() + problem.retryAfter * 1000);
    } finally {
      setSending(null);
    }
  }

  const blocked = sending !== null || resendWait > 0;
  return (
    <Page title="Enter your code" focusHeading={false}>
      <p>{wentBy(challenge.channel, challenge.sentTo)}</p>
      <CodeExpiry secondsLeft={secondsLeft}>
        The code has expired.{' '}
        <Link to="/login" state={again}>
          Sign in again
        </Link>{' '}
        to get a new one.
      </CodeExpiry>
      <Notice>{news}</Notice>
      <form onSubmit={onSubmit} noValidate>
        <FormAlert>{formProblem?.message}</FormAlert>
        <CodeField inputRef={input} enterKeyHint="done" value={code} onChange={(e) => setCode(e.target.value)} error={codeError} />
        <SubmitButton label="Verify" busyLabel="Checking…" busy={loading} waitSeconds={gate.secondsLeft} />
      </form>
      {secondsLeft !== 0 && (
        <section className="more" aria-labelledby="resend-title">
          <h2 id="resend-title">Nothing arrived?</h2>
          <p id="resend-note">
            {resendWait > 0 ? (
              <>
                You can ask for it again in{' '}
                <span role="timer" id="resend-wait">
                  {formatClock(resendWait)}
                </span>
                .
              </>
            ) : (
              'It can take a minute to arrive. We can send it again, or call you and read it out.'
            )}
          </p>
          <div className="actions">
            <button
              type="button"
              className="secondary"
              aria-disabled={blocked || undefined}
              aria-describedby="resend-note"
              onClick={() => void resend('SMS')}
            >
              {sending === 'SMS' ? 'Sending…' : challenge.channel === 'SMS' ? 'Send the code again' : 'Text me the code'}
            </button>
            <button
              type="button"
              className="secondary"
              aria-disabled={blocked || undefined}
              aria-describedby="resend-note"
              onClick={() => void resend('CALL')}
            >
              {sending === 'CALL' ? 'Calling…' : challenge.channel === 'CALL' ? 'Call me again' : 'Call me instead'}
            </button>
          </div>
        </section>
      )}
      <p>
        <Link to="/login" state={again}>
          Back to sign in
        </Link>
      </p>
    </Page>
  );
}
