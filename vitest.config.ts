import { defineConfig } from 'vitest/config'

// Two projects: fast Node tests (unit, golden, simulator, CLI) run in parallel; tests that start real
// browsers or nginx run one file at a time so that the 2-core machine is not oversubscribed.
export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify('test') },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: [
            'test/unit/**/*.test.ts',
            'test/golden/**/*.test.ts',
            'test/fake-atlassian/**/*.test.ts',
            'test/cli/**/*.test.ts',
          ],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'real',
          include: ['test/e2e/**/*.test.ts', 'test/collectors/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
