import type { TwostepClient } from '@twostep/client';
import { TwostepProvider } from '@twostep/client/react';
import type { ReactNode } from 'react';
import { Link, Navigate, Route, Routes } from 'react-router';
import { FlowProvider } from './flow';
import { Account } from './pages/Account';
import { Activity } from './pages/Activity';
import { ChangePassword } from './pages/ChangePassword';
import { ChangePhone } from './pages/ChangePhone';
import { DeleteAccount } from './pages/DeleteAccount';
import { ForgotPassword } from './pages/ForgotPassword';
import { Login } from './pages/Login';
import { Register } from './pages/Register';
import { ResetPassword } from './pages/ResetPassword';
import { Sessions } from './pages/Sessions';
import { Verify } from './pages/Verify';
import { Welcome } from './pages/Welcome';
import { Page } from './ui';

/**
 * Providers gives the pages the SDK's client (the session: tokens, refresh,
 * state) and the steps in progress (flow.tsx). The router goes inside:
 * BrowserRouter in the app, MemoryRouter in tests.
 */
export function Providers({ client, children }: { client: TwostepClient; children: ReactNode }) {
  return (
    <TwostepProvider client={client}>
      <FlowProvider>{children}</FlowProvider>
    </TwostepProvider>
  );
}

/** App is the routes, relative to the router's basename (/app in production). */
export function App() {
  return (
    <>
      <header className="masthead">
        {/* The same column as the page, so the name sits above the content at any width. */}
        <div className="column">
          <span className="brand">twostep</span>
        </div>
      </header>
      <Routes>
        <Route path="/" element={<Navigate to="/welcome" replace />} />
        <Route path="/register" element={<Register />} />
        <Route path="/login" element={<Login />} />
        <Route path="/verify" element={<Verify />} />
        <Route path="/forgot-password" element={<ForgotPassword />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route path="/welcome" element={<Welcome />} />
        <Route path="/sessions" element={<Sessions />} />
        <Route path="/activity" element={<Activity />} />
        <Route path="/account" element={<Account />} />
        <Route path="/account/password" element={<ChangePassword />} />
        <Route path="/account/phone" element={<ChangePhone />} />
        <Route path="/account/delete" element={<DeleteAccount />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </>
  );
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. <Link to="/login">Sign in</Link> or <Link to="/register">create an account</Link>.
      </p>
    </Page>
  );
}
