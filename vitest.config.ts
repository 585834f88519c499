import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration suites that need the real stack
// (Redis, Keycloak, etcd + kube-apiserver, kwok), which test/stack/global-setup.ts brings up when it is not.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/src/**/*.test.ts', 'worker/src/**/*.test.ts', 'gateway/src/**/*.test.ts', 'test/src/**/*.unit.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/src/**/*.it.test.ts'],
          environment: 'node',
          globalSetup: ['test/src/stack/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
