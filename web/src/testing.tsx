// Test helpers: the real app (the SDK's client, the router, every page)
// against a fake /graphql.
import { createTokenStore, createTwostepClient, defaultStorageKey, memoryStorage, type TokenStorage, type TokenStore, type User } from '@twostep/client';
import { act, configure, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter, useNavigate, type NavigateFunction } from 'react-router';
import { App, Providers } from './App';

// Two shared cores make the first renders slow; a timeout is a failure, so
// give findBy/waitFor room rather than flake.
configure({ asyncUtilTimeout: 5000 });

// defaultStorageKey is where the SDK keeps the refresh token.
export { defaultStorageKey, memoryStorage };

/** A GraphQL response body, as the server would send it. */
export interface Reply {
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Handler answers one operation; throwing makes fetch fail like a network error. */
export type Handler = (variables: Record<string, unknown>, headers: Headers) => Reply | Promise<Reply>;

export interface FakeServer {
  fetch: typeof fetch;
  /** Each request received, in order. */
  requests: { operationName: string; variables: Record<string, unknown>; headers: Headers }[];
}

/**
 * fakeServer answers POST /graphql by operation name. An operation with no
 * handler fails the test loudly instead of hanging.
 */
export function fakeServer(handlers: Record<string, Handler>): FakeServer {
  const requests: FakeServer['requests'] = [];
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables?: Record<string, unknown> };
    const headers = new Headers(init?.headers);
    const variables = body.variables ?? {};
    requests.push({ operationName: body.operationName, variables, headers });
    const handler = handlers[body.operationName];
    if (!handler) throw new Error(`fakeServer: no handler for ${body.operationName}`);
    return new Response(JSON.stringify(await handler(variables, headers)), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, requests };
}

/** gqlError builds the error shape the twostep server sends. */
export function gqlError(code: string, extensions: Record<string, unknown> = {}, message = code.toLowerCase()): Reply {
  return { data: null, errors: [{ message, extensions: { code, ...extensions } }] };
}

/** Navigator hands the router's navigate to the test, as the address bar and the back and forward buttons would use it. */
function Navigator({ into }: { into: (navigate: NavigateFunction) => void }) {
  into(useNavigate());
  return null;
}

/**
 * renderApp renders the whole app at path, its client talking to server.
 * store is the session's (signedOut unless given); events is where other
 * tabs' storage events arrive (none unless given). navigate goes to a path,
 * or back (-1) and forward (1) in the history, as the browser would.
 */
export function renderApp(path: string, server: FakeServer, store: TokenStore = createTokenStore(), opts: { events?: EventTarget } = {}) {
  const client = createTwostepClient({ url: 'http://test/graphql', fetch: server.fetch, store, locks: null, events: opts.events ?? null });
  let routerNavigate: NavigateFunction | undefined;
  const result = render(
    <Providers client={client}>
      <MemoryRouter initialEntries={[path]}>
        <Navigator into={(n) => (routerNavigate = n)} />
        <App />
      </MemoryRouter>
    </Providers>,
  );
  const navigate = (to: string | number) =>
    act(async () => {
      if (!routerNavigate) throw new Error('renderApp: the router is not rendered');
      await (typeof to === 'number' ? routerNavigate(to) : routerNavigate(to));
    });
  return { ...result, client, store, navigate };
}

/** user is the account the fake servers answer me with. */
export const user: User = {
  id: 'u1',
  email: 'ada@example.com',
  phone: '+14155550123',
  phoneVerified: true,
  createdAt: '2026-01-02T03:04:05Z',
  roles: [],
};

/** tokens are the nth access and refresh tokens a fake server hands out, as verifyOtp and refreshSession answer them. */
export function tokens(n: number, expiresIn = 900) {
  return {
    accessToken: `tok-${n}`,
    tokenType: 'Bearer',
    expiresIn,
    refreshToken: `ref-${n}`,
    refreshExpiresAt: '2026-02-01T00:00:00Z',
    user,
  };
}

/** refreshed is refreshSession's answer with the nth tokens. */
export function refreshed(n: number, expiresIn = 900): Reply {
  return { data: { refreshSession: tokens(n, expiresIn) } };
}

/** signedIn is a session that has just signed in, its refresh token in storage. */
export function signedIn(storage: TokenStorage = memoryStorage()): TokenStore {
  const store = createTokenStore({ storage });
  store.save(tokens(1));
  return store;
}

/** stored is a session found in storage on start-up: a refresh token and no access token. */
export function stored(storage: TokenStorage = memoryStorage()): TokenStore {
  storage.setItem(defaultStorageKey, 'ref-1');
  return createTokenStore({ storage });
}

/** type fills the field labelled label, as a person typing would. */
export function type(label: RegExp | string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

/** press clicks the button named name. */
export function press(name: RegExp | string) {
  fireEvent.click(screen.getByRole('button', { name }));
}

/**
 * webStorageText is everything the page's own Web Storage holds, for checks
 * that a token never lands there (the session store in these tests is given
 * a storage of its own).
 */
export function webStorageText(): string {
  const dump = (s: Storage) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i) ?? '')]));
  return JSON.stringify({ local: dump(localStorage), session: dump(sessionStorage) });
}
