// Writing things for people: times, countdowns and masked numbers.

/** formatTime writes an RFC 3339 time the way this browser's locale does ("3 Mar 2026, 10:00"). */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** formatClock writes seconds as m:ss, the way a countdown usually looks. */
export function formatClock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
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
