// @vitest-environment happy-dom
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthProvider, useAuth } from './auth';
import { createRefresher } from './refresh';
import { createSessionStore, refreshTokenKey, type SessionStore } from './session';
import { memoryStorage, tokens } from './testing';

afterEach(cleanup);

function Status() {
  const { status, ended } = useAuth();
  return <p>{ended ? `${status} (${ended})` : status}</p>;
}

function renderWith(session: SessionStore = createSessionStore(null)) {
  // No requests are made: the refresh below never answers.
  const client = new ApolloClient({ link: ApolloLink.empty(), cache: new InMemoryCache() });
  const refresher = createRefresher({ session, send: () => new Promise(() => {}) });
  render(
    <StrictMode>
      <ApolloProvider client={client}>
        <AuthProvider session={session} refresher={refresher}>
          <Status />
        </AuthProvider>
      </ApolloProvider>
    </StrictMode>,
  );
  return session;
}

describe('AuthProvider status', () => {
  it('starts from the store', () => {
    const session = createSessionStore(null);
    session.save(tokens(1));
    renderWith(session);
    expect(screen.getByText('signedIn')).toBeTruthy();
  });

  it('is restoring while a stored session waits for its first refresh', () => {
    const storage = memoryStorage();
    storage.setItem(refreshTokenKey, 'ref-1');
    renderWith(createSessionStore(storage));
    expect(screen.getByText('restoring')).toBeTruthy();
  });

  it('re-renders when the store is saved and cleared from outside React', () => {
    const session = renderWith();
    expect(screen.getByText('signedOut')).toBeTruthy();
    act(() => session.save(tokens(1)));
    expect(screen.getByText('signedIn')).toBeTruthy();
    act(() => session.clear('REFRESH_TOKEN_INVALID'));
    expect(screen.getByText('signedOut (REFRESH_TOKEN_INVALID)')).toBeTruthy();
  });

  it('stays signed in when the access token expires: that is for a refresh to fix', () => {
    let now = 1_000;
    const session = createSessionStore(null, () => now);
    session.save(tokens(1, 60));
    renderWith(session);
    now += 60_000;
    expect(session.token()).toBeNull();
    expect(screen.getByText('signedIn')).toBeTruthy();
  });
});
