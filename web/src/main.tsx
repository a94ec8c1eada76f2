import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { createApolloClient } from './apollo';
import { App } from './App';
import { AuthProvider } from './auth';
import { browserLocalStorage, browserSessionStorage, createSessionStore, dropLegacyAccessToken } from './session';
import './styles.css';

dropLegacyAccessToken(browserSessionStorage());
const session = createSessionStore(browserLocalStorage());
const { client, refresher } = createApolloClient(session, {
  // Web Locks exist only in secure contexts (https, or localhost).
  locks: 'locks' in navigator ? navigator.locks : null,
  events: window,
});
// Vite's base ("/app/") is the one place the mount point is written down.
const basename = import.meta.env.BASE_URL.replace(/\/$/, '');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <AuthProvider session={session} refresher={refresher}>
        <BrowserRouter basename={basename}>
          <App />
        </BrowserRouter>
      </AuthProvider>
    </ApolloProvider>
  </StrictMode>,
);
