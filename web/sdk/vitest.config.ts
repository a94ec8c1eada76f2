import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Node by default; the React tests ask for happy-dom in their first line.
// The examples import the package by name: point that at src, so the tests
// run without a build (as tsconfig.json's paths do for the type checker).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@twostep\/client\/react$/, replacement: fileURLToPath(new URL('./src/react.tsx', import.meta.url)) },
      { find: /^@twostep\/client$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
  },
});
