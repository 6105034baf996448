import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // Installs missing test peers and starts a throwaway PostgreSQL and Redis (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    // Files and the tests in them run in a random order every run, so a test that passes only after
    // another is found at once. Vitest prints the seed; reproduce with `--sequence.seed=<seed>`.
    sequence: { shuffle: { files: true, tests: true } },
  },
});
