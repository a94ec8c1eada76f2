// @vitest-environment happy-dom
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthProvider, useAuth } from './auth';
import { createSessionStore } from './session';

afterEach(cleanup);

function SignedIn() {
  const { signedIn } = useAuth();
  return <p>{signedIn ? 'signed in' : 'signed out'}</p>;
}

function renderWith(session = createSessionStore(null)) {
  // No requests are made; the provider only needs a client for sign-out.
  const client = new ApolloClient({ link: ApolloLink.empty(), cache: new InMemoryCache() });
  render(
    <StrictMode>
      <ApolloProvider client={client}>
        <AuthProvider session={session}>
          <SignedIn />
        </AuthProvider>
      </ApolloProvider>
    </StrictMode>,
  );
  return session;
}

describe('AuthProvider signedIn', () => {
  it('starts from the store', () => {
    const session = createSessionStore(null);
    session.save('tok', 60);
    renderWith(session);
    expect(screen.getByText('signed in')).toBeTruthy();
  });

  it('re-renders when the store is saved and cleared from outside React', () => {
    const session = renderWith();
    expect(screen.getByText('signed out')).toBeTruthy();
    act(() => session.save('tok', 60));
    expect(screen.getByText('signed in')).toBeTruthy();
    act(() => session.clear());
    expect(screen.getByText('signed out')).toBeTruthy();
  });

  it('re-renders when the token is found expired', () => {
    let now = 1_000;
    const session = createSessionStore(null, () => now);
    session.save('tok', 60);
    renderWith(session);
    expect(screen.getByText('signed in')).toBeTruthy();
    now += 60_000;
    act(() => void session.token());
    expect(screen.getByText('signed out')).toBeTruthy();
  });

});
