import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Kernel tests share the machine's two cores; running them one file at a time keeps counts exact.
    fileParallelism: false,
  },
});
