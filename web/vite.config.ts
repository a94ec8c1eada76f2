/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { readFileSync } from 'node:fs';

// The Go server serves the built app under /app/ and the API at /graphql, so
// the dev server uses the same base and proxies /graphql: the browser sees one
// origin in development as in production, and no CORS setup is needed.
const api = process.env.TWOSTEP_API_URL ?? 'http://127.0.0.1:8080';

// The built app runs only its own bundled script and talks only to its own
// origin. This is what actually protects the tokens in storage: script
// injected into the page could read them (see README.md). The policy is the
// server's own, one file for both (the Go server sends it as a header on
// every response); the meta tag leaves out frame-ancestors, which only a
// header can set. Build only, because the dev server injects inline script
// for hot reload.
const contentSecurityPolicy = readFileSync(new URL('../internal/httpedge/content-security-policy.txt', import.meta.url), 'utf8')
  .trim()
  .split(';')
  .map((d) => d.trim())
  .filter((d) => d !== '' && !d.startsWith('frame-ancestors'))
  .join('; ');

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
  // @twostep/client is a link to ./sdk, whose node_modules may hold a React
  // of its own (for its tests): one copy of React, or hooks fail.
  resolve: { dedupe: ['react', 'react-dom'] },
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
