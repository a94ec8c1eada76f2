import { fieldErrors, messageFor, toTwostepError, type ErrorDetail, type OtpChannel, type TwostepError } from '@twostep/client';
import { useTwostep } from '@twostep/client/react';
import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useFlow, type Challenge } from '../flow';
import { formatClock } from '../format';
import { digitsOnly } from '../input';
import { CodeExpiry, CodeField, FormAlert, Notice, Page, ProblemMessage, SubmitButton, useExpiry, useFormProblem, useSecondsLeft } from '../ui';
import { type NavState } from './nav';

/**
 * Verify is the code step. Without a challenge in memory (a reload, a
 * bookmark, or the step already finished) there is no mfaToken to send, so
 * the person goes back to the password step.
 */
export function Verify() {
  const { challenge } = useFlow();
  const { status } = useTwostep();
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

// A token the server no longer knows means the code step is over, whichever
// button was pressed.
function isOver(err: TwostepError): boolean {
  return err.has('MFA_TOKEN_INVALID') || err.errors.some((d) => 'field' in d && d.field === 'mfaToken');
}

const over = messageFor({ code: 'MFA_TOKEN_INVALID', step: 'login', message: '' });

function VerifyForm({ challenge }: { challenge: Challenge }) {
  const navigate = useNavigate();
  const { verifyOtp, resendOtp } = useTwostep();
  const { startChallenge, endChallenge } = useFlow();
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const form = useFormProblem();
  const [resendProblem, setResendProblem] = useState<ErrorDetail | null>(null);
  const [sending, setSending] = useState<OtpChannel | null>(null);
  const [news, setNews] = useState('');
  // The server's own wait, from a RATE_LIMITED answer to a resend (ms).
  const [retryUntil, setRetryUntil] = useState(0);
  const again: NavState = { email: challenge.email };
  const input = useRef<HTMLInputElement>(null);

  const secondsLeft = useExpiry(challenge.expiresAt);
  // The server says how long the number's cooldown is (resendAfter); a
  // RATE_LIMITED answer to a resend, how long is left of a limit.
  const resendWait = useSecondsLeft(Math.max(challenge.sentAt + challenge.resendAfter * 1000, retryUntil)) ?? 0;

  // The login page drops the challenge when it opens (see Login); ending it
  // here first would make this page redirect on its own, without the notice.
  function restart(notice: string) {
    const state: NavState = { notice, email: challenge.email };
    navigate('/login', { replace: true, state });
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy || form.waitSeconds > 0) return;
    setCodeError(undefined);
    form.show(null);
    setResendProblem(null);
    setNews('');
    const digits = digitsOnly(code);
    if (digits === '') {
      // Checked here so an empty submit cannot spend one of the attempts.
      setCodeError(`Enter the code from ${fromWhere[challenge.channel]}.`);
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await verifyOtp({ mfaToken: challenge.mfaToken, code: digits });
      // Signed in. replace: Back from the welcome page must not return to a
      // used code step.
      navigate('/welcome', { replace: true });
      endChallenge();
    } catch (caught) {
      setBusy(false);
      const err = toTwostepError(caught);
      if (isOver(err)) {
        restart(over);
        return;
      }
      if (err.attemptsLeft === 0) {
        restart('That code was wrong too many times. Sign in again to get a new code.');
        return;
      }
      const split = fieldErrors(err, ['code'] as const);
      setCodeError(split.fields.code);
      form.show(split.form);
      if (split.fields.code) {
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
    form.show(null);
    setResendProblem(null);
    setNews('');
    try {
      const sent = await resendOtp({ mfaToken: challenge.mfaToken, channel });
      startChallenge({ ...challenge, ...sent, sentAt: Date.now() });
      // The server sends the same code again: one typed from the first
      // message still works.
      setNews(`${sent.channel === 'CALL' ? 'We are calling you now.' : 'We sent the code again.'} It is the same code as before.`);
    } catch (caught) {
      const err = toTwostepError(caught);
      if (isOver(err)) {
        restart(over);
        return;
      }
      setResendProblem(err.detail);
      // The wait counts down in the note below the heading, not in the alert.
      if (err.retryAfter !== undefined) setRetryUntil(Date.now() + err.retryAfter * 1000);
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
        <FormAlert>{form.message ?? (resendProblem && <ProblemMessage problem={resendProblem} />)}</FormAlert>
        <CodeField inputRef={input} enterKeyHint="done" value={code} onChange={(e) => setCode(e.target.value)} error={codeError} />
        <SubmitButton label="Verify" busyLabel="Checking…" busy={busy} waiting={form.waitSeconds > 0} />
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
