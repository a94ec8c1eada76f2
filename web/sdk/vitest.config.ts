import { defineConfig } from 'vitest/config';

// Node by default; the React tests ask for happy-dom in their first line.
export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
  },
});
