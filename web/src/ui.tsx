// The few building blocks every page uses, each carrying its accessibility
// duty so the pages cannot forget it.
import { messageFor, type ErrorDetail } from '@twostep/client';
import { useEffect, useRef, useState, type InputHTMLAttributes, type ReactNode, type Ref } from 'react';
import { formatClock, withoutWait } from './format';

/**
 * Page sets the document title and, on arrival, moves focus to the heading:
 * after a client-side navigation a screen reader would otherwise stay on the
 * button that was pressed on the previous page, and hear nothing new.
 */
export function Page({ title, focusHeading = true, children }: { title: string; focusHeading?: boolean; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · twostep`;
  }, [title]);
  useEffect(() => {
    if (focusHeading) heading.current?.focus();
  }, [focusHeading]);
  return (
    <main className="page">
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </main>
  );
}

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  inputRef?: Ref<HTMLInputElement>;
}

/**
 * Field is a labelled input whose hint and error are tied to it with
 * aria-describedby. The error element is always rendered, as a polite live
 * region, so a new error is announced even when focus is already in the field.
 */
export function Field({ id, label, hint, error, inputRef, ...input }: FieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const describedBy = [hintId, error ? errorId : undefined].filter(Boolean).join(' ');
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
      <input
        id={id}
        name={id}
        ref={inputRef}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      <p id={errorId} className="field-error" aria-live="polite">
        {error}
      </p>
    </div>
  );
}

/**
 * CodeField is the field for a one-time code: autocomplete="one-time-code"
 * lets iOS and Android offer the code from the SMS, inputmode="numeric" opens
 * a number pad, and it takes focus on arrival, since typing the code is the
 * one thing to do on a page that has one. No pattern: "12 34 56" is a fine
 * way to type a code (pages send its digits), and must not look invalid.
 */
export function CodeField(props: Omit<FieldProps, 'id' | 'label'> & { id?: string; label?: string }) {
  return (
    <Field
      id="code"
      label="Code"
      autoFocus
      autoComplete="one-time-code"
      inputMode="numeric"
      maxLength={16}
      required
      className="code-input"
      {...props}
    />
  );
}

/**
 * NewPasswordField is where a password is chosen (registration, a reset, a
 * change), so each says the same about the rules and lets password managers
 * offer a strong one. The rules themselves are the server's: its answer is
 * shown at the field.
 */
export function NewPasswordField(props: Omit<FieldProps, 'type' | 'hint' | 'autoComplete'>) {
  return (
    <Field
      type="password"
      autoComplete="new-password"
      required
      hint="At least 8 characters. A few unrelated words are easy to remember and hard to guess."
      {...props}
    />
  );
}

/**
 * PhoneField is where a mobile number is typed (registration, a phone
 * change). Its label names it as the server's messages do ("Phone number
 * must be a valid mobile number, …"), and its hint shows the format the
 * server reads best; spaces and brackets are fine (pages normalise them).
 */
export function PhoneField(props: Omit<FieldProps, 'type' | 'hint' | 'autoComplete'>) {
  return (
    <Field
      type="tel"
      autoComplete="tel"
      required
      hint={
        <>
          A mobile number, for sign-in codes by text message. In international format, e.g.{' '}
          <span className="nowrap">+1 415 555 0123</span>.
        </>
      }
      {...props}
    />
  );
}

/**
 * Checkbox is a labelled checkbox with the same error duties as Field: the
 * error is tied to it and always in the DOM as a polite live region.
 */
export function Checkbox({ id, label, error, inputRef, ...input }: Omit<FieldProps, 'hint' | 'type'>) {
  const errorId = `${id}-error`;
  return (
    <div className={error ? 'field checkbox field-invalid' : 'field checkbox'}>
      <input
        id={id}
        name={id}
        type="checkbox"
        ref={inputRef}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        {...input}
      />
      <label htmlFor={id}>{label}</label>
      <p id={errorId} className="field-error" aria-live="polite">
        {error}
      </p>
    </div>
  );
}

/**
 * FormAlert shows a problem that belongs to no single field. role="alert"
 * makes screen readers read it out as soon as it appears; it is always in
 * the DOM because some only watch regions that existed before the change.
 */
export function FormAlert({ id, children }: { id?: string; children?: ReactNode }) {
  return (
    <div id={id} role="alert" className="alert">
      {children}
    </div>
  );
}

/**
 * Notice is calm news: carried over from the previous page ("You have signed
 * out.") or the result of an action on this one. Pass focusRef when the
 * action removed the focused element (a list item's button), so focus lands
 * on the news instead of falling to the top of the page.
 */
export function Notice({ children, focusRef }: { children?: ReactNode; focusRef?: Ref<HTMLDivElement> }) {
  return (
    <div role="status" className="notice" ref={focusRef} tabIndex={focusRef ? -1 : undefined}>
      {children}
    </div>
  );
}

/**
 * Loading stands in for a page whose content is not known yet, such as
 * whether the person is signed in while a stored session is restored. It
 * says nothing either way, so neither the sign-in page nor an account flashes
 * by.
 */
export function Loading() {
  return (
    <main className="page" aria-busy="true">
      <p role="status">Loading…</p>
    </main>
  );
}

/**
 * useSecondsLeft counts down to until (milliseconds since the epoch), once a
 * second; null when there is nothing to count down to.
 */
export function useSecondsLeft(until: number | null): number | null {
  // The clock is read while rendering, so the first render after until
  // changes is already right; the state only asks for a render each second.
  const [, setTick] = useState(0);
  useEffect(() => {
    if (until === null) return;
    const timer = setInterval(() => {
      setTick((n) => n + 1);
      if (Date.now() >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return until === null ? null : Math.max(0, Math.ceil((until - Date.now()) / 1000));
}

/**
 * useExpiry counts down to an RFC 3339 time from the server, such as a
 * code's expiresAt; null if it cannot be read. The browser's clock may
 * differ from the server's, so this is a guide: forms stay usable and the
 * server has the last word.
 */
export function useExpiry(iso: string): number | null {
  const at = Date.parse(iso);
  return useSecondsLeft(Number.isNaN(at) ? null : at);
}

/**
 * CodeExpiry says how long a code still works (a role="timer", which screen
 * readers do not read out every second) and, once it has expired, what to
 * do instead, in a status region so that news is heard.
 */
export function CodeExpiry({ secondsLeft, children }: { secondsLeft: number | null; children: ReactNode }) {
  return (
    <>
      {secondsLeft !== null && secondsLeft > 0 && (
        <p>
          It works for{' '}
          <span role="timer" id="code-expiry">
            {formatClock(secondsLeft)}
          </span>{' '}
          more.
        </p>
      )}
      <div role="status">{secondsLeft === 0 && <p className="notice">{children}</p>}</div>
    </>
  );
}

/**
 * focusFirst focuses the first of ids that names an element, so after a
 * failed submit keyboard and screen-reader users land on what to fix.
 */
export function focusFirst(ids: readonly string[]) {
  for (const id of ids) {
    const el = document.getElementById(id);
    if (el) {
      el.focus();
      return;
    }
  }
}

/**
 * FormProblem is a form's problem that belongs to no field, ready for its
 * FormAlert, and the wait a RATE_LIMITED answer asked for.
 */
export interface FormProblem {
  problem: ErrorDetail | null;
  /** Seconds until the server listens again (RATE_LIMITED's retryAfter, counted down); 0 when it does. */
  waitSeconds: number;
  /** Show problem (null: none), and hold the form for its retryAfter if it has one. */
  show(problem: ErrorDetail | null): void;
  /** What the FormAlert says: the problem's sentence, a rate limit's with its wait counting down. */
  message: ReactNode;
}

/**
 * useFormProblem keeps a form's problem. A RATE_LIMITED answer names the
 * limit and the wait; the wait is shown counting down, in the alert only,
 * and the form's button holds until it is over.
 */
export function useFormProblem(): FormProblem {
  const [problem, setProblem] = useState<ErrorDetail | null>(null);
  const [until, setUntil] = useState<number | null>(null);
  const waitSeconds = useSecondsLeft(until) ?? 0;
  return {
    problem,
    waitSeconds,
    show(p) {
      setProblem(p);
      if (p?.code === 'RATE_LIMITED' && p.retryAfter !== undefined && p.retryAfter > 0) setUntil(Date.now() + p.retryAfter * 1000);
    },
    message: problem && <ProblemMessage problem={problem} waitSeconds={until === null ? undefined : waitSeconds} />,
  };
}

/**
 * ProblemMessage is the sentence for problem. For RATE_LIMITED it is the
 * server's (which limit), with the wait counting down when waitSeconds is
 * given; without it, the page counts the wait down somewhere else, so only
 * the limit is said here. Either way the time is shown in one place.
 */
export function ProblemMessage({ problem, waitSeconds }: { problem: ErrorDetail; waitSeconds?: number }) {
  if (problem.code !== 'RATE_LIMITED' || problem.retryAfter === undefined) return <>{messageFor(problem)}</>;
  const limit = withoutWait(messageFor(problem)) || 'Too many attempts.';
  if (waitSeconds === undefined) return <>{limit}</>;
  return (
    <>
      {limit}{' '}
      {waitSeconds > 0 ? (
        <>
          Try again in <span role="timer">{formatClock(waitSeconds)}</span>.
        </>
      ) : (
        'You can try again now.'
      )}
    </>
  );
}

/**
 * SubmitButton says what is happening ("Sending code…") and is marked
 * aria-disabled, not disabled, while the form must not be sent (busy, or
 * waiting out a rate limit, whose countdown is in the form's alert): a
 * disabled button drops keyboard focus to the top of the page. Forms check
 * themselves before sending.
 */
export function SubmitButton({
  label,
  busyLabel,
  busy,
  waiting = false,
  className,
}: {
  label: string;
  busyLabel: string;
  busy: boolean;
  waiting?: boolean;
  /** "danger" for a button that destroys something. */
  className?: string;
}) {
  return (
    <button type="submit" className={className} aria-disabled={busy || waiting ? true : undefined}>
      {busy ? busyLabel : label}
    </button>
  );
}
