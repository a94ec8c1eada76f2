// The Apollo Client for this app: one HTTP link to /graphql, behind a link
// that adds the access token.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import type { SessionStore } from './session';

export interface ClientOptions {
  /** Same origin by default: the Go server (or Vite's proxy) answers /graphql. */
  uri?: string;
  /** For tests: a fake server. */
  fetch?: typeof fetch;
}

/**
 * createApolloClient returns a client that sends `Authorization: Bearer`
 * whenever session has a token. The token is read per request, so sign-in and
 * sign-out take effect without rebuilding the client.
 */
export function createApolloClient(session: SessionStore, opts: ClientOptions = {}) {
  const auth = new SetContextLink(({ headers }) => {
    const token = session.token();
    return token ? { headers: { ...headers, authorization: `Bearer ${token}` } } : {};
  });
  const http = new HttpLink({ uri: opts.uri ?? '/graphql', fetch: opts.fetch });
  return new ApolloClient({
    link: ApolloLink.from([auth, http]),
    cache: new InMemoryCache(),
  });
}
