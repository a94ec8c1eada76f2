// Writing things for people: times, masked numbers, and a rate limit's
// sentence without its wait (the page counts that down itself).

/** formatTime writes an RFC 3339 time the way this browser's locale does ("3 Mar 2026, 10:00"). */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** formatClock writes seconds as m:ss (h:mm:ss from an hour), the way a countdown looks. */
export function formatClock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// Country calling codes of one and two digits (ITU-T E.164); every other
// code has three. They are prefix-free, so the first match is the code.
const shortCallingCodes = new Set([
  '1', '7', '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86',
  '90', '91', '92', '93', '94', '95', '98',
]);

/**
 * maskPhone hides an E.164 number the way the server does in "we sent a
 * code to …" (input.MaskPhone): the "+", the country calling code and the
 * last four digits stay ("+14155550123" becomes "+1******0123"). Anything
 * else, or too short to hide a digit, is all stars but the "+".
 */
export function maskPhone(e164: string): string {
  const digits = /^\+(\d+)$/.exec(e164)?.[1];
  if (digits === undefined) return e164.replace(/[^+]/g, '*');
  const cc = [1, 2].find((n) => shortCallingCodes.has(digits.slice(0, n))) ?? 3;
  if (digits.length < cc + 4 + 1) return e164.replace(/[^+]/g, '*');
  return `+${digits.slice(0, cc)}${'*'.repeat(digits.length - cc - 4)}${digits.slice(-4)}`;
}

// The sentence of a RATE_LIMITED message that says how long to wait: the
// last one, naming a time ("Try again in 3 minutes.", "You can ask for
// another in 30 seconds.", "Try again in a moment.").
const waitSentence = /\s*[^.!?]*\bin (?:about )?(?:\d+ (?:seconds?|minutes?|hours?)|an? (?:moment|minute|hour))\b[^.!?]*[.!?]?\s*$/i;

/**
 * withoutWait is a RATE_LIMITED message without the sentence that says how
 * long to wait, which a page shows counting down instead: the server's
 * "Too many failed attempts on this account. Try again in 3 minutes."
 * becomes "Too many failed attempts on this account." A message that says
 * no wait comes back as it is; one that is only the wait, as "".
 */
export function withoutWait(message: string): string {
  return message.replace(waitSentence, '').trim();
}
