// Writing things for people: times and countdowns.

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
