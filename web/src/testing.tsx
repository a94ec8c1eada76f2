// Test helpers: the real app (real links, real router) against a fake /graphql.
import { ApolloProvider } from '@apollo/client/react';
import { configure, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { createApolloClient, type ClientOptions } from './apollo';
import { App } from './App';
import { AuthProvider } from './auth';
import type { Tokens } from './graphql';
import { createSessionStore, type SessionStore, type TokenStorage } from './session';

// Two shared cores make the first renders slow; a timeout is a failure, so
// give findBy/waitFor room rather than flake.
configure({ asyncUtilTimeout: 5000 });

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

/** renderApp renders the whole app at path, talking to server. */
export function renderApp(
  path: string,
  server: FakeServer,
  session: SessionStore = createSessionStore(null),
  opts: Pick<ClientOptions, 'locks' | 'events'> = {},
) {
  const { client, refresher } = createApolloClient(session, { uri: 'http://test/graphql', fetch: server.fetch, ...opts });
  const result = render(
    <ApolloProvider client={client}>
      <AuthProvider session={session} refresher={refresher}>
        <MemoryRouter initialEntries={[path]}>
          <App />
        </MemoryRouter>
      </AuthProvider>
    </ApolloProvider>,
  );
  return { ...result, session, client, refresher };
}

/** tokens are the nth access and refresh tokens a fake server hands out. */
export function tokens(n: number, expiresIn = 900): Tokens {
  return { accessToken: `tok-${n}`, expiresIn, refreshToken: `ref-${n}` };
}

/** refreshed is refreshSession's answer with the nth tokens. */
export function refreshed(n: number, expiresIn = 900): Reply {
  return { data: { refreshSession: { __typename: 'AuthPayload', ...tokens(n, expiresIn) } } };
}

/** memoryStorage is a Web Storage stand-in whose items a test can inspect. */
export function memoryStorage(): TokenStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

/** user is the account the fake servers answer me with. */
export const user = {
  __typename: 'User',
  id: 'u1',
  email: 'ada@example.com',
  phone: '+14155550123',
  phoneVerified: true,
  createdAt: '2026-01-02T03:04:05Z',
};

/** signedIn is a session that has just signed in, its refresh token in storage. */
export function signedIn(storage: TokenStorage = memoryStorage()): SessionStore {
  const session = createSessionStore(storage);
  session.save(tokens(1));
  return session;
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
