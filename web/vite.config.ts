/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server serves the built app under /app/ and the API at /graphql, so
// the dev server uses the same base and proxies /graphql: the browser sees one
// origin in development as in production, and no CORS setup is needed.
const api = process.env.TWOSTEP_API_URL ?? 'http://127.0.0.1:8080';

// The built app runs only its own bundled script and talks only to its own
// origin. This is what actually protects the access token in sessionStorage:
// script injected into the page could read it (see README.md). Build only,
// because the dev server injects inline script for hot reload.
// (frame-ancestors cannot be set from a meta tag; the server sends
// X-Frame-Options: DENY.)
const contentSecurityPolicy = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function csp(): Plugin {
  return {
    name: 'twostep-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy }, injectTo: 'head-prepend' },
    ],
  };
}

export default defineConfig({
  base: '/app/',
  plugins: [react(), csp()],
  server: {
    proxy: { '/graphql': { target: api } },
  },
  test: {
    // Plain Node by default; files that need a DOM say `@vitest-environment happy-dom`.
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
