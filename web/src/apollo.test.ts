// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createApolloClient } from './apollo';
import { problemsOf } from './errors';
import { LOGIN, ME } from './graphql';
import { createSessionStore, refreshTokenKey } from './session';
import { fakeServer, gqlError, memoryStorage, refreshed, tokens, type Handler, type Reply } from './testing';

const user = {
  __typename: 'User',
  id: 'u1',
  email: 'ada@example.com',
  phone: '+14155550123',
  phoneVerified: true,
  createdAt: '2026-01-02T03:04:05Z',
};
const me: Reply = { data: { me: user } };

/** accepting answers Me for the given access tokens and UNAUTHENTICATED for any other. */
function accepting(...good: string[]): Handler {
  return (_v, headers) => (good.includes(headers.get('authorization')?.replace('Bearer ', '') ?? '') ? me : gqlError('UNAUTHENTICATED'));
}

function setup(handlers: Record<string, Handler>, { signedIn = true, stored = false } = {}) {
  const storage = memoryStorage();
  if (stored) storage.setItem(refreshTokenKey, 'ref-1');
  const session = createSessionStore(storage);
  if (signedIn) session.save(tokens(1));
  const server = fakeServer(handlers);
  const { client } = createApolloClient(session, { uri: 'http://test/graphql', fetch: server.fetch });
  const sent = (name: string) => server.requests.filter((r) => r.operationName === name);
  const bearer = (name: string) => sent(name).map((r) => r.headers.get('authorization'));
  return { session, storage, server, client, sent, bearer };
}

describe('the auth link', () => {
  it('sends the access token with operations that need a session', async () => {
    const { client, bearer } = setup({ Me: accepting('tok-1') });
    const { data } = await client.query({ query: ME });
    expect(data?.me.email).toBe('ada@example.com');
    expect(bearer('Me')).toEqual(['Bearer tok-1']);
  });

  it('sends public operations bare, and never refreshes for them', async () => {
    const { client, server } = setup(
      { Login: () => ({ data: { login: { __typename: 'LoginPayload', mfaToken: 'm', channel: 'SMS', sentTo: 'x', expiresAt: 'y' } } }) },
      { signedIn: false, stored: true },
    );
    await client.mutate({ mutation: LOGIN, variables: { input: { email: 'a@b.c', password: 'p' } } });
    expect(server.requests.map((r) => [r.operationName, r.headers.get('authorization')])).toEqual([['Login', null]]);
  });

  it('refreshes first when there is a refresh token but no access token (a reload)', async () => {
    const { client, bearer, sent } = setup({ RefreshSession: () => refreshed(2), Me: accepting('tok-2') }, { signedIn: false, stored: true });
    await client.query({ query: ME });
    expect(sent('RefreshSession').map((r) => r.variables)).toEqual([{ input: { refreshToken: 'ref-1' } }]);
    expect(sent('RefreshSession')[0]?.headers.get('authorization')).toBeNull();
    expect(bearer('Me')).toEqual(['Bearer tok-2']);
  });

  it('on UNAUTHENTICATED refreshes once and sends once more', async () => {
    const { client, bearer, sent, session } = setup({ RefreshSession: () => refreshed(2), Me: accepting('tok-2') });
    const { data } = await client.query({ query: ME });
    expect(data?.me.id).toBe('u1');
    expect(bearer('Me')).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(sent('RefreshSession')).toHaveLength(1);
    expect(session.token()).toBe('tok-2');
  });

  it('refreshes once for several operations refused together', async () => {
    const { client, sent, bearer } = setup({ RefreshSession: () => refreshed(2), Me: accepting('tok-2') });
    const noDedup = { fetchPolicy: 'network-only', context: { queryDeduplication: false } } as const;
    await Promise.all([client.query({ query: ME, ...noDedup }), client.query({ query: ME, ...noDedup })]);
    expect(bearer('Me').sort()).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2', 'Bearer tok-2']);
    expect(sent('RefreshSession')).toHaveLength(1);
  });

  it('ends the session when the fresh token is refused too, without trying a third time', async () => {
    const { client, sent, session, storage } = setup({ RefreshSession: () => refreshed(2), Me: accepting() });
    const err = await client.query({ query: ME }).catch((e: unknown) => e);
    expect(problemsOf(err)[0]?.code).toBe('UNAUTHENTICATED');
    expect(sent('Me')).toHaveLength(2);
    expect(sent('RefreshSession')).toHaveLength(1);
    expect(session.snapshot()).toEqual({ status: 'signedOut', ended: 'UNAUTHENTICATED' });
    expect(storage.items.size).toBe(0);
  });

  it('ends the session when the refresh answers REFRESH_TOKEN_INVALID', async () => {
    const { client, sent, session, storage } = setup({ RefreshSession: () => gqlError('REFRESH_TOKEN_INVALID'), Me: accepting() });
    const err = await client.query({ query: ME }).catch((e: unknown) => e);
    expect(problemsOf(err)[0]?.code).toBe('UNAUTHENTICATED');
    expect(sent('Me')).toHaveLength(1);
    expect(session.snapshot()).toEqual({ status: 'signedOut', ended: 'REFRESH_TOKEN_INVALID' });
    expect(storage.items.size).toBe(0);
  });

  it('keeps the session when the refresh fails for a reason that may pass', async () => {
    const { client, session, storage } = setup(
      {
        RefreshSession: () => {
          throw new TypeError('Failed to fetch');
        },
        Me: accepting('tok-2'),
      },
      { signedIn: false, stored: true },
    );
    const err = await client.query({ query: ME }).catch((e: unknown) => e);
    expect(problemsOf(err)[0]?.code).toBe('NETWORK_ERROR');
    expect(storage.getItem(refreshTokenKey)).toBe('ref-1');
    expect(session.snapshot().status).toBe('signedIn');
  });
});
