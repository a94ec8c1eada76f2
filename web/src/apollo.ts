// The Apollo Client for this app: one HTTP link to /graphql, behind a link
// that adds the access token, refreshing it when it is missing or refused.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { catchError, defer, map, mergeMap, of, throwError, type Observable } from 'rxjs';
import { hasCode, problemsOf } from './errors';
import { REFRESH_SESSION, anonymousOperations } from './graphql';
import { createRefresher, type Locks, type Refresher } from './refresh';
import type { SessionStore } from './session';

export interface ClientOptions {
  /** Same origin by default: the Go server (or Vite's proxy) answers /graphql. */
  uri?: string;
  /** For tests: a fake server. */
  fetch?: typeof fetch;
  /** navigator.locks in the browser; null where there is none. */
  locks?: Locks | null;
  /** window in the browser, for `storage` events from other tabs. */
  events?: EventTarget | null;
}

// A refresh holds the lock every tab waits for, so it must not hang on a
// connection that went quiet.
const refreshTimeoutMs = 15_000;

/**
 * createApolloClient returns a client that sends `Authorization: Bearer`
 * with every operation that needs a session, and the Refresher that keeps
 * the token fresh (the app starts it; see AuthProvider). The token is read
 * per request, so sign-in and sign-out take effect without rebuilding the
 * client.
 */
export function createApolloClient(session: SessionStore, opts: ClientOptions = {}): { client: ApolloClient; refresher: Refresher } {
  const refresher = createRefresher({
    session,
    locks: opts.locks,
    events: opts.events,
    async send(refreshToken) {
      const { data } = await client.mutate({
        mutation: REFRESH_SESSION,
        variables: { input: { refreshToken } },
        fetchPolicy: 'no-cache',
        context: { fetchOptions: { signal: AbortSignal.timeout(refreshTimeoutMs) } },
      });
      if (!data) throw new Error('refreshSession: no data');
      return data.refreshSession;
    },
  });
  const http = new HttpLink({ uri: opts.uri ?? '/graphql', fetch: opts.fetch });
  const client = new ApolloClient({
    link: ApolloLink.from([authLink(session, refresher), http]),
    cache: new InMemoryCache(),
  });
  return { client, refresher };
}

/** Outcome is one answer from the server, or the error that stood in for it. */
type Outcome = { result: ApolloLink.Result } | { error: unknown };

/**
 * authLink sends each operation that needs a session with an access token,
 * refreshing first if there is none. If the server still refuses the token
 * (UNAUTHENTICATED: it expired on the way, or the server restarted with
 * new keys), it refreshes once and sends once more; a second refusal ends
 * the session. A refresh that finds the session over has already cleared
 * the store, so the pages send the person to sign in.
 */
function authLink(session: SessionStore, refresher: Refresher): ApolloLink {
  return new ApolloLink((operation, forward) => {
    if (anonymousOperations.has(operation.operationName ?? '')) return forward(operation);

    const attempt = (token: string | null): Observable<Outcome> => {
      if (token !== null) {
        operation.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
      }
      return forward(operation).pipe(
        map((result): Outcome => ({ result })),
        catchError((error: unknown) => of<Outcome>({ error })),
      );
    };
    const answer = (o: Outcome) => ('result' in o ? of(o.result) : throwError(() => o.error));

    return defer(() => refresher.accessToken()).pipe(
      mergeMap((token) =>
        attempt(token).pipe(
          mergeMap((first) => {
            if (token === null || !refused(first)) return answer(first);
            return defer(() => refresher.refresh(token)).pipe(
              mergeMap((fresh) => {
                if (fresh === null) return answer(first);
                return attempt(fresh).pipe(
                  mergeMap((second) => {
                    if (refused(second)) session.clear('UNAUTHENTICATED');
                    return answer(second);
                  }),
                );
              }),
            );
          }),
        ),
      ),
    );
  });
}

function refused(o: Outcome): boolean {
  if ('error' in o) return hasCode(problemsOf(o.error), 'UNAUTHENTICATED');
  const errors = 'errors' in o.result ? (o.result.errors ?? []) : [];
  return errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}
