import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'miniprogram/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Several suites bind real ports and share one PostgreSQL database; two workers
    // keep a 2-core machine responsive without serialising the whole run.
    maxWorkers: 2,
  },
});
