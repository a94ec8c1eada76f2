// One GraphQL operation over fetch: POST, JSON, and every way it can fail
// turned into a TwostepError.
import { TwostepError, parseError, type ErrorDetail, type GraphQLErrorJSON, type StepKind } from './errors.js';
import type { Operation } from './generated/operations.js';

export interface TransportOptions {
  /** The GraphQL endpoint. */
  url: string;
  fetch: typeof fetch;
  /** Added to every request (a User-Agent in Node, say). Never Authorization: the client sets that. */
  headers?: Record<string, string>;
}

export interface SendOptions {
  /** The access token, sent as `Authorization: Bearer`. */
  token?: string | null;
  /** Abort the request. */
  signal?: AbortSignal;
  /** Give up after this many ms with NETWORK_ERROR. */
  timeoutMs?: number;
}

// The step whose token an operation spends, so MFA_TOKEN_INVALID can say
// which flow to start again.
const stepOf: Record<string, StepKind> = {
  VerifyOtp: 'login',
  ResendOtp: 'login',
  ResetPassword: 'passwordReset',
  ConfirmPhoneChange: 'phoneChange',
};

/**
 * send posts op with variables and returns its data. It rejects with a
 * TwostepError: the response's errors (every one, whatever the HTTP
 * status), or NETWORK_ERROR when no GraphQL answer came, or for a non-2xx
 * answer without errors SERVICE_UNAVAILABLE (503) or INTERNAL_SERVER_ERROR
 * (other 5xx).
 */
export async function send<R, V>(t: TransportOptions, op: Operation<R, V>, variables: V, opts: SendOptions = {}): Promise<R> {
  const headers: Record<string, string> = {
    ...t.headers,
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const { signal, aborted, done } = deadline(opts.signal, opts.timeoutMs);
  const fail = (errors: ErrorDetail[], status?: number, cause?: unknown): never => {
    throw new TwostepError(errors, { status, operationName: op.name, cause });
  };
  let res: Response;
  let text: string;
  try {
    // Raced against the signal too: an injected fetch may not honour it.
    res = await Promise.race([
      t.fetch(t.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: op.document, operationName: op.name, variables: variables ?? {} }),
        signal,
      }),
      aborted,
    ]);
    text = await Promise.race([res.text(), aborted]);
  } catch (err) {
    const timedOut = signal?.aborted && !opts.signal?.aborted;
    const message = timedOut ? 'The server did not answer in time.' : err instanceof Error ? err.message : String(err);
    return fail([{ code: 'NETWORK_ERROR', message: message || 'The request failed.' }], undefined, err);
  } finally {
    done();
  }

  let body: { data?: unknown; errors?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // Not JSON: an HTML error page from a proxy, say.
  }
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    const step = stepOf[op.name];
    const errors = (body.errors as GraphQLErrorJSON[]).map((e) => {
      const d = parseError(e);
      return d.code === 'MFA_TOKEN_INVALID' && step !== undefined ? { ...d, step } : d;
    });
    return fail(errors, res.status);
  }
  if (!res.ok) {
    // A bare 503 is a proxy or load balancer saying the server is out for now.
    if (res.status === 503) return fail([{ code: 'SERVICE_UNAVAILABLE', message: `HTTP ${res.status}` }], res.status);
    if (res.status >= 500) return fail([{ code: 'INTERNAL_SERVER_ERROR', message: `HTTP ${res.status}` }], res.status);
    return fail([{ code: 'NETWORK_ERROR', message: `HTTP ${res.status}`, status: res.status }], res.status);
  }
  if (typeof body?.data !== 'object' || body.data === null) {
    return fail([{ code: 'NETWORK_ERROR', message: 'The answer was not a GraphQL response.', status: res.status }], res.status);
  }
  return body.data as R;
}

// deadline combines the caller's signal with a timeout (without
// AbortSignal.any, newer than some browsers this supports), and gives a
// promise that rejects when either fires.
function deadline(
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal; aborted: Promise<never>; done(): void } {
  const ctl = new AbortController();
  const abort = () => ctl.abort(outer?.reason);
  if (outer?.aborted) abort();
  outer?.addEventListener('abort', abort, { once: true });
  const timer =
    timeoutMs !== undefined && timeoutMs > 0
      ? setTimeout(() => ctl.abort(new DOMException('The server did not answer in time.', 'TimeoutError')), timeoutMs)
      : undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    const fire = () => reject(ctl.signal.reason);
    if (ctl.signal.aborted) fire();
    else ctl.signal.addEventListener('abort', fire, { once: true });
  });
  // Nobody may be racing it when it fires (the answer came first).
  aborted.catch(() => {});
  return {
    signal: ctl.signal,
    aborted,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    },
  };
}
