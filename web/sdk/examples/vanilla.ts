import { createTwostepClient, errorMessage, isTwostepError } from '@twostep/client';

// In a browser: localStorage, Web Locks and other tabs by default. In Node:
// memory only (or pass storage), and fetch is Node's own.
const client = createTwostepClient({ url: 'https://auth.example.com/graphql' });
client.start(); // refresh ahead of expiry, follow other tabs' sign-in and sign-out

client.subscribe((state) => {
  document.body.dataset.auth = state.status; // signedOut | restoring | signedIn
  if (state.status === 'signedOut' && state.reason === 'REFRESH_TOKEN_INVALID') alert('Your session ended. Sign in again.');
});

export async function signIn(email: string, password: string, askForCode: (sentTo: string) => Promise<string>) {
  const { mfaToken, sentTo } = await client.login({ email, password, channel: 'SMS' });
  for (;;) {
    try {
      return (await client.verifyOtp({ mfaToken, code: await askForCode(sentTo) })).user;
    } catch (err) {
      if (!isTwostepError(err) || err.code !== 'INVALID_OTP' || err.attemptsLeft === 0) throw err;
      alert(errorMessage(err)); // and ask again
    }
  }
}

// Any other API that takes twostep's access tokens: a fresh one, refreshed if needed.
export async function orders(): Promise<unknown> {
  const token = await client.accessToken();
  if (token === null) throw new Error('not signed in');
  return (await fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } })).json();
}
