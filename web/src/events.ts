// Security events in words, for the "Recent activity" page.
import type { SecurityEvent } from '@twostep/client';

interface Wording {
  /** What happened, in a few words. */
  what: string;
  /**
   * Whether the server's detail says more than what does ("by sms to
   * +1******0123 (login)"); for some it is only an internal id.
   */
  detail: boolean;
}

// Every type the server documents (README, "Security events"). A type not
// listed here (a newer server) is shown by its name, with its detail.
const wordings: Record<string, Wording> = {
  USER_REGISTERED: { what: 'Account created', detail: false },
  LOGIN_SUCCEEDED: { what: 'Right password entered to sign in', detail: false },
  LOGIN_FAILED: { what: 'Wrong password entered to sign in', detail: false },
  CODE_SENT: { what: 'Code sent', detail: true },
  CODE_FAILED: { what: 'Wrong code entered', detail: true },
  CODE_DELIVERY_FAILED: { what: 'A code could not be sent', detail: true },
  SIGN_IN_COMPLETED: { what: 'Signed in', detail: false },
  SESSION_REFRESHED: { what: 'Session renewed', detail: false },
  REFRESH_REUSE_DETECTED: { what: 'Session ended: an old sign-in token was used again', detail: false },
  LOGOUT: { what: 'Signed out', detail: true },
  SESSION_REVOKED: { what: 'Another session signed out', detail: false },
  PASSWORD_RESET_REQUESTED: { what: 'Password reset requested', detail: false },
  PASSWORD_RESET_COMPLETED: { what: 'Password reset', detail: true },
  PASSWORD_CHANGED: { what: 'Password changed', detail: true },
  PASSWORD_CHECK_FAILED: { what: 'Wrong password entered to confirm a change', detail: false },
  PHONE_CHANGE_STARTED: { what: 'Phone number change started', detail: true },
  PHONE_CHANGE_CONFIRMED: { what: 'Phone number changed', detail: true },
  ACCOUNT_DELETED: { what: 'Account deleted', detail: false },
  ROLES_CHANGED: { what: 'Roles changed', detail: true },
  RATE_LIMITED: { what: 'Too many attempts: a limit was reached', detail: true },
  ADMIN_ACTION: { what: 'Administrator action', detail: true },
};

/** eventTypes lists the types describeEvent has words for. */
export const eventTypes = Object.keys(wordings);

/** describeEvent says what an event of type was ("Signed in"), or gives its name if it has no words yet. */
export function describeEvent(type: string): string {
  return Object.hasOwn(wordings, type) ? wordings[type]!.what : type;
}

/** eventDetail is the server's detail when it tells a person more than describeEvent does, else null. */
export function eventDetail(e: Pick<SecurityEvent, 'type' | 'detail'>): string | null {
  const shown = Object.hasOwn(wordings, e.type) ? wordings[e.type]!.detail : true;
  return shown && e.detail ? e.detail : null;
}

/** ActivityItem is one line of the page: an event, or a run of session renewals from one place. */
export interface ActivityItem {
  /** The newest event of the item. */
  event: SecurityEvent;
  /** How many events it stands for (1, or the renewals in a row). */
  count: number;
  /** The oldest event's time, when count > 1. */
  since: string | null;
}

/**
 * groupActivity folds renewals in a row (SESSION_REFRESHED, one every few
 * minutes for every open tab) from the same device and address into one
 * item, so they do not bury the sign-ins around them. events are newest first.
 */
export function groupActivity(events: readonly SecurityEvent[]): ActivityItem[] {
  const items: ActivityItem[] = [];
  for (const e of events) {
    const last = items.at(-1);
    if (
      last !== undefined &&
      e.type === 'SESSION_REFRESHED' &&
      last.event.type === 'SESSION_REFRESHED' &&
      last.event.userAgent === e.userAgent &&
      last.event.ipAddress === e.ipAddress
    ) {
      last.count++;
      last.since = e.at;
      continue;
    }
    items.push({ event: e, count: 1, since: null });
  }
  return items;
}
