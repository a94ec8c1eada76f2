// Forgiving input clean-up, done before sending so the server's strict rules
// (E.164 phone numbers, digit-only codes) do not punish how people type.

/** normalizePhone drops the spaces, dashes, dots and brackets people write in phone numbers. */
export function normalizePhone(s: string): string {
  return s.replace(/[\s().-]/g, '');
}

/** digitsOnly keeps the digits of a pasted or typed code ("123 456" → "123456"). */
export function digitsOnly(s: string): string {
  return s.replace(/\D/g, '');
}
