// @vitest-environment happy-dom
// The React entry: provider, hook, guards and the query hook, rendered with
// react-dom against the fake server.
import { StrictMode, act, useState, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TwostepClient } from '../src/client.js';
import { errorMessage } from '../src/errors.js';
import { SignedIn, SignedOut, TwostepProvider, useTwostep, useTwostepQuery } from '../src/react.js';
import { defaultStorageKey, memoryStorage } from '../src/store.js';
import { errorReply } from './fakeTwostep.js';
import { ada, createFakeTwostep, newClient, signIn } from './helpers.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | null = null;
let container: HTMLElement;

function render(ui: ReactNode) {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  act(() => root!.render(ui));
  return container;
}

/** settle lets pending requests and their renders finish. */
async function settle() {
  for (let i = 0; i < 5; i++) await act(async () => await new Promise((r) => setTimeout(r, 0)));
}

afterEach(() => {
  act(() => root?.unmount());
  root = null;
  container?.remove();
});

function Status() {
  const { status, user, state } = useTwostep();
  return (
    <p data-testid="status">
      {status}
      {user ? ` ${user.email}` : ''}
      {state.status === 'signedOut' && state.reason ? ` (${state.reason})` : ''}
    </p>
  );
}

const text = () => container.textContent ?? '';

describe('TwostepProvider and useTwostep', () => {
  it('throws outside a provider', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Status />)).toThrow(/no TwostepProvider/);
    spy.mockRestore();
  });

  it('starts the client while mounted, once per mount, also in StrictMode', () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    const stops: string[] = [];
    const start = client.start;
    const spied: TwostepClient = {
      ...client,
      start: () => {
        stops.push('start');
        const stop = start();
        return () => {
          stops.push('stop');
          stop();
        };
      },
    };
    render(
      <StrictMode>
        <TwostepProvider client={spied}>
          <Status />
        </TwostepProvider>
      </StrictMode>,
    );
    // StrictMode mounts, unmounts and mounts again.
    expect(stops).toEqual(['start', 'stop', 'start']);
    act(() => root!.unmount());
    root = null;
    expect(stops).toEqual(['start', 'stop', 'start', 'stop']);
  });

  it('re-renders through a sign-in and a sign-out made with its actions', async () => {
    const fake = createFakeTwostep();
    fake.addUser();
    const client = newClient(fake);

    function LoginForm() {
      const { login, verifyOtp, signOut, status } = useTwostep();
      const [mfaToken, setMfaToken] = useState<string | null>(null);
      const [error, setError] = useState('');
      if (status === 'signedIn') return <button onClick={() => void signOut()}>Sign out</button>;
      if (mfaToken === null) {
        return (
          <>
            <p role="alert">{error}</p>
            <button
              onClick={() =>
                login({ email: ada.email, password: ada.password }).then((c) => setMfaToken(c.mfaToken), (e: unknown) => setError(errorMessage(e)))
              }
            >
              Log in
            </button>
          </>
        );
      }
      return (
        <>
          <p role="alert">{error}</p>
          <button onClick={() => verifyOtp({ mfaToken, code: '000000' }).catch((e: unknown) => setError(errorMessage(e)))}>Wrong code</button>
          <button onClick={() => verifyOtp({ mfaToken, code: fake.code(ada.phone) }).catch((e: unknown) => setError(errorMessage(e)))}>
            Verify
          </button>
        </>
      );
    }

    render(
      <TwostepProvider client={client}>
        <Status />
        <LoginForm />
      </TwostepProvider>,
    );
    const click = async (name: string) => {
      const button = [...container.querySelectorAll('button')].find((b) => b.textContent === name);
      if (!button) throw new Error(`no button ${name} in: ${text()}`);
      act(() => button.click());
      await settle();
    };
    expect(text()).toContain('signedOut');
    await click('Log in');
    await click('Wrong code');
    expect(container.querySelector('[role=alert]')?.textContent).toBe('That code is wrong. You have 4 attempts left.');
    await click('Verify');
    expect(container.querySelector('[data-testid=status]')?.textContent).toBe(`signedIn ${ada.email}`);
    await click('Sign out');
    expect(container.querySelector('[data-testid=status]')?.textContent).toBe('signedOut (signOut)');
    expect(fake.liveSessions()).toBe(0);
  });
});

describe('SignedIn and SignedOut', () => {
  function Guarded() {
    return (
      <>
        <SignedIn restoring={<p>Loading…</p>} fallback={(s) => <p>Sign in ({s.reason ?? 'no session'})</p>}>
          <p>Account</p>
        </SignedIn>
        <SignedOut>
          <a href="/login">Sign in link</a>
        </SignedOut>
      </>
    );
  }

  it('shows the fallback without a session', () => {
    const client = newClient(createFakeTwostep());
    render(
      <TwostepProvider client={client}>
        <Guarded />
      </TwostepProvider>,
    );
    expect(text()).toBe('Sign in (no session)Sign in link');
  });

  it('shows restoring, never the fallback, until a stored session is restored', async () => {
    const fake = createFakeTwostep();
    const storage = memoryStorage();
    await signIn(newClient(fake, { storage }), fake);
    const client = newClient(fake, { storage });
    render(
      <TwostepProvider client={client}>
        <Guarded />
      </TwostepProvider>,
    );
    expect(text()).toBe('Loading…');
    await settle();
    expect(text()).toBe('Account');
    expect(fake.operations().at(-1)).toBe('RefreshSession');
  });

  it("restoring's error reaches the page, and the session is kept", async () => {
    const fake = createFakeTwostep();
    const storage = memoryStorage();
    await signIn(newClient(fake, { storage }), fake);
    fake.override('RefreshSession', errorReply('SERVICE_UNAVAILABLE'));
    const client = newClient(fake, { storage });
    render(
      <TwostepProvider client={client}>
        <SignedIn restoring={(s) => <p>{s.error ? errorMessage(s.error) : 'Loading…'}</p>}>
          <p>Account</p>
        </SignedIn>
      </TwostepProvider>,
    );
    await settle();
    expect(text()).toBe('The service is briefly unavailable. Try again in a moment.');
    expect(storage.getItem(defaultStorageKey)).not.toBeNull();
  });

  it('shows the fallback, with the reason, once the session ends', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    await signIn(client, fake);
    render(
      <TwostepProvider client={client}>
        <Guarded />
      </TwostepProvider>,
    );
    expect(text()).toBe('Account');
    fake.revokeAll();
    await act(async () => {
      await client.me().catch(() => {});
    });
    expect(text()).toBe('Sign in (REFRESH_TOKEN_INVALID)Sign in link');
  });
});

describe('useTwostepQuery', () => {
  function Me({ id }: { id?: string }) {
    const { data, error, loading, refetch } = useTwostepQuery((c) => c.me(), [id]);
    return (
      <>
        <p>{loading ? 'loading' : 'idle'}</p>
        <p>{data?.email ?? ''}</p>
        <p>{error ? errorMessage(error) : ''}</p>
        <button onClick={refetch}>again</button>
      </>
    );
  }

  it('loads, fails, and loads again on refetch', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    await signIn(client, fake);
    render(
      <TwostepProvider client={client}>
        <Me />
      </TwostepProvider>,
    );
    expect(text()).toContain('loading');
    await settle();
    expect(text()).toBe(`idle${ada.email}again`);

    fake.override('Me', errorReply('INTERNAL_SERVER_ERROR', { requestId: 'r-1' }));
    act(() => container.querySelector('button')!.click());
    await settle();
    // The last answer stays while the error is shown.
    expect(text()).toBe(`idle${ada.email}Something went wrong on our side. Try again.again`);

    act(() => container.querySelector('button')!.click());
    await settle();
    expect(text()).toBe(`idle${ada.email}again`);
    expect(fake.operations().filter((o) => o === 'Me')).toHaveLength(3);
  });

  it('refetch resolves once the new answer is shown, also after an error', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    await signIn(client, fake);
    let refetch!: () => Promise<void>;
    function Probe() {
      const q = useTwostepQuery((c) => c.me());
      refetch = q.refetch;
      return <p>{q.loading ? 'loading' : q.error ? errorMessage(q.error) : (q.data?.email ?? '')}</p>;
    }
    render(
      <TwostepProvider client={client}>
        <Probe />
      </TwostepProvider>,
    );
    await settle();
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    fake.override('Me', async () => {
      await slow;
      return errorReply('SERVICE_UNAVAILABLE');
    });
    let done = false;
    await act(async () => {
      void refetch().then(() => (done = true));
    });
    await settle();
    expect(done).toBe(false);
    expect(text()).toBe('loading');
    await act(async () => {
      release();
      await slow;
    });
    await settle();
    expect(done).toBe(true);
    expect(text()).toBe('The service is briefly unavailable. Try again in a moment.');
  });

  it('drops an answer that arrives after a newer call started', async () => {
    const fake = createFakeTwostep();
    const client = newClient(fake);
    await signIn(client, fake);
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    fake.override('Me', async () => {
      await slow;
      return { data: { me: { id: 'old', email: 'stale@example.com', phone: '', phoneVerified: true, createdAt: '', roles: [] } } };
    });
    function Switch() {
      const [id, setId] = useState('a');
      return (
        <>
          <Me id={id} />
          <button onClick={() => setId('b')}>switch</button>
        </>
      );
    }
    render(
      <TwostepProvider client={client}>
        <Switch />
      </TwostepProvider>,
    );
    act(() => [...container.querySelectorAll('button')].find((b) => b.textContent === 'switch')!.click());
    await settle();
    release();
    await settle();
    expect(text()).toContain(ada.email);
    expect(text()).not.toContain('stale@example.com');
  });
});
