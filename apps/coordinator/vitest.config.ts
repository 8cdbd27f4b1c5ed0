import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Property tests and real tfjs training run several seconds alone and far
    // longer when turbo runs every package at once on a 2-core machine; speed is
    // measured by the benchmarks, never by test timeouts.
    testTimeout: 60_000,
  },
});
