import { defineConfig } from 'vitest/config';

/** Issue #14's accuracy table alone (see vitest.config.ts for why it is not in `pnpm test`). */
export default defineConfig({
  test: {
    include: ['src/integration/hostile-accuracy.test.ts'],
    testTimeout: 60_000,
  },
});
