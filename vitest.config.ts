import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs no store; `sqlite` and `postgres` run the same service, HTTP and
// integration suites on each engine (test/support/store.ts reads KMS_TEST_STORE).
const storeSuites = [
  'test/http/**/*.test.ts',
  'test/services/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/store/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-artifacts/vitest.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: storeSuites },
      },
      // `*.pg.test.ts`: several KMS processes on one PostgreSQL (SQLite is one process by design).
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: storeSuites,
          exclude: ['**/*.pg.test.ts'],
          env: { KMS_TEST_STORE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: { name: 'postgres', include: storeSuites, env: { KMS_TEST_STORE: 'postgres' } },
      },
    ],
  },
});
