// Fakes shared by the tests: Web Locks, storage events, and a client
// signed in against the fake server.
import { createTwostepClient, type TwostepClient, type TwostepClientOptions } from '../src/client.js';
import { TwostepError } from '../src/errors.js';
import type { Locks } from '../src/refresh.js';
import { memoryStorage, type TokenStorage } from '../src/store.js';
import { createFakeTwostep, type FakeTwostep } from './fakeTwostep.js';

/**
 * fakeLocks is navigator.locks for one origin: callbacks under the same name
 * run one after another, in the order requested.
 */
export function fakeLocks(): Locks & { requested: string[] } {
  let tail: Promise<unknown> = Promise.resolve();
  const requested: string[] = [];
  return {
    requested,
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      requested.push(name);
      const run = tail.then(callback);
      tail = run.catch(() => {});
      return run;
    },
  };
}

/** storageEvent is the event another tab's change of key makes in this one. */
export function storageEvent(key: string | null): Event {
  return Object.assign(new Event('storage'), { key });
}

export const ada = { email: 'ada@example.com', password: 'correct horse battery staple', phone: '+14155550123' };

/** newClient is a client of fake with no browser around it: memory storage, no locks, no window. */
export function newClient(fake: FakeTwostep, opts: TwostepClientOptions = {}): TwostepClient {
  return createTwostepClient({ url: 'http://test/graphql', fetch: fake.fetch, storage: memoryStorage(), locks: null, events: null, ...opts });
}

/** signIn registers ada (if needed) and signs client in through login and verifyOtp. */
export async function signIn(client: TwostepClient, fake: FakeTwostep) {
  try {
    fake.addUser(ada.email, ada.password, ada.phone);
  } catch {
    // Already there.
  }
  const challenge = await client.login({ email: ada.email, password: ada.password });
  return client.verifyOtp({ mfaToken: challenge.mfaToken, code: fake.code(ada.phone) });
}

/** tab is one browser tab: its own client over the origin's shared storage, locks and server. */
export function tab(fake: FakeTwostep, storage: TokenStorage, locks: Locks | null, events: EventTarget | null = null) {
  return newClient(fake, { storage, locks, events });
}

export { createFakeTwostep, memoryStorage };

/** user is the user a fake answer carries. */
export const user = {
  id: 'user-1',
  email: ada.email,
  phone: ada.phone,
  phoneVerified: true,
  createdAt: '2026-11-30T10:00:00Z',
  roles: [],
};

/** tokens are the nth access and refresh tokens a fake server hands out. */
export function tokens(n: number, expiresIn = 900) {
  return { accessToken: `tok-${n}`, expiresIn, refreshToken: `ref-${n}`, refreshExpiresAt: '2026-12-14T10:00:00Z', user };
}

/**
 * fakeOrigin is one browser origin: a localStorage every tab shares, which,
 * as a browser does, fires a `storage` event in every other tab on a change.
 */
export function fakeOrigin() {
  const items = new Map<string, string>();
  const tabs = new Set<EventTarget>();
  const locks = fakeLocks();
  return {
    items,
    locks,
    /** newTab returns a tab's view: the shared storage, and where its storage events arrive. */
    newTab(): { storage: TokenStorage; events: EventTarget } {
      const events = new EventTarget();
      tabs.add(events);
      const tell = (key: string) => {
        for (const other of tabs) if (other !== events) other.dispatchEvent(storageEvent(key));
      };
      const storage: TokenStorage = {
        getItem: (k) => items.get(k) ?? null,
        setItem(k, v) {
          items.set(k, v);
          tell(k);
        },
        removeItem(k) {
          if (items.delete(k)) tell(k);
        },
      };
      return { storage, events };
    },
  };
}

/** rejection is what p rejects with, as a TwostepError; it fails the test if p resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<TwostepError> {
  const outcome = await p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ('value' in outcome) throw new Error(`resolved with ${JSON.stringify(outcome.value)}, want a rejection`);
  if (!(outcome.error instanceof TwostepError)) throw new Error(`rejected with ${String(outcome.error)}, want a TwostepError`);
  return outcome.error;
}
