import { createTwostepClient } from '@twostep/client';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App, Providers } from './App';
import './styles.css';

// Builds before refresh tokens kept the access token in sessionStorage: a
// tab that ran one must hold none on disk.
try {
  sessionStorage.removeItem('twostep.session');
} catch {
  // Unusable storage holds nothing.
}

// Same origin: the Go server (or Vite's proxy) answers /graphql. The refresh
// token goes to localStorage, refreshes take turns across tabs (Web Locks,
// in secure contexts), and other tabs' sign-outs are followed: the SDK's
// browser defaults.
const client = createTwostepClient({ url: '/graphql' });
// Vite's base ("/app/") is the one place the mount point is written down.
const basename = import.meta.env.BASE_URL.replace(/\/$/, '');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Providers client={client}>
      <BrowserRouter basename={basename}>
        <App />
      </BrowserRouter>
    </Providers>
  </StrictMode>,
);
