import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['ca-server/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers and CLI processes; two cores are all CI has.
    maxWorkers: 2,
  },
});
