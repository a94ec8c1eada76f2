import { createTwostepClient, errorMessage } from '@twostep/client';
import { SignedIn, TwostepProvider, useTwostep, useTwostepQuery } from '@twostep/client/react';
import { useState, type FormEvent } from 'react';

const client = createTwostepClient({ url: '/graphql' });

export const App = () => (
  <TwostepProvider client={client}>
    <SignedIn restoring={<p>Loading…</p>} fallback={<LoginForm />}>
      <Account />
    </SignedIn>
  </TwostepProvider>
);

function LoginForm() {
  const { login, verifyOtp } = useTwostep();
  const [mfaToken, setMfaToken] = useState<string | null>(null); // React state only, never stored
  const [error, setError] = useState('');
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.currentTarget)) as Record<string, string>;
    try {
      if (mfaToken === null) setMfaToken((await login({ email: f.email!, password: f.password! })).mfaToken);
      else await verifyOtp({ mfaToken, code: f.code! }); // signed in: SignedIn now shows Account
    } catch (err) {
      setError(errorMessage(err)); // "That code is wrong. You have 4 attempts left."
    }
  }
  return (
    <form onSubmit={onSubmit}>
      {mfaToken === null ? <><input name="email" type="email" /><input name="password" type="password" /></> : <input name="code" autoComplete="one-time-code" />}
      <p role="alert">{error}</p>
      <button>{mfaToken === null ? 'Sign in' : 'Verify'}</button>
    </form>
  );
}

function Account() {
  const { signOut } = useTwostep();
  const { data: me, error } = useTwostepQuery((c) => c.me());
  if (error) return <p role="alert">{errorMessage(error)}</p>;
  return <p>Signed in as {me?.email ?? '…'} <button onClick={signOut}>Sign out</button></p>;
}
