import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { createApolloClient } from './apollo';
import { App } from './App';
import { AuthProvider } from './auth';
import { browserSessionStorage, createSessionStore } from './session';
import './styles.css';

const session = createSessionStore(browserSessionStorage());
const client = createApolloClient(session);
// Vite's base ("/app/") is the one place the mount point is written down.
const basename = import.meta.env.BASE_URL.replace(/\/$/, '');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <AuthProvider session={session}>
        <BrowserRouter basename={basename}>
          <App />
        </BrowserRouter>
      </AuthProvider>
    </ApolloProvider>
  </StrictMode>,
);
