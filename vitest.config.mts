import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // One process runs every file, one after the other, so the modules most files share (the Temporal SDK, the server,
    // the worker) load once per run instead of once per file: in a measured run, 167 s of imports became 9 s.
    isolate: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
