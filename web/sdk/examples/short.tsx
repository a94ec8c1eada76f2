import { createTwostepClient, errorMessage } from '@twostep/client';
import { SignedIn, TwostepProvider, useTwostep, useTwostepQuery } from '@twostep/client/react';
import { useState, type FormEvent } from 'react';

const client = createTwostepClient({ url: '/graphql' });

export const App = () => (
  <TwostepProvider client={client}>
    <SignedIn restoring={<p>Loading…</p>} fallback={<SignIn />}><Me /></SignedIn>
  </TwostepProvider>
);

function SignIn() {
  const { login, verifyOtp } = useTwostep();
  const [mfaToken, setMfaToken] = useState(''); // in memory only, for the one step that needs it
  const [error, setError] = useState('');
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const get = (name: string) => String(form.get(name));
    try {
      if (mfaToken) await verifyOtp({ mfaToken, code: get('code') }); // signed in: <SignedIn> shows <Me />
      else setMfaToken((await login({ email: get('email'), password: get('password') })).mfaToken);
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  return (
    <form onSubmit={submit}>
      {mfaToken ? <input name="code" autoComplete="one-time-code" /> : <><input name="email" /><input name="password" type="password" /></>}
      <button>{mfaToken ? 'Verify' : 'Sign in'}</button> <span role="alert">{error}</span>
    </form>
  );
}

function Me() {
  const { signOut } = useTwostep();
  const { data: me } = useTwostepQuery((c) => c.me());
  return <p>Signed in as {me?.email ?? '…'} <button onClick={signOut}>Sign out</button></p>;
}
