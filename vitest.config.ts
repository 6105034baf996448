import { defineConfig } from 'vitest/config';

/** The shuffled order CI runs in (see `sequence` below). */
const CI_SEED = 1796629609141;

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
    // CI (CI=true) takes one fixed shuffled order, last moved when a full run in it passed, so a red
    // CI points at a change rather than at a new order; every other run draws a fresh seed.
    sequence: { shuffle: { files: true, tests: true }, ...(process.env.CI ? { seed: CI_SEED } : {}) },
  },
});
