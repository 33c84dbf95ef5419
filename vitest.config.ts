import { availableParallelism } from 'node:os'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Compiles .vue single-file components for the renderer tests (test/renderer, happy-dom).
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends are process-global state: keep each test file in its own fork.
    pool: 'forks',
    // At least two files at a time. vitest's default in a run is one fewer than the cores: 1 on a 2-core machine,
    // which leaves a core idle while a file waits on a child process, Chromium or Redis (measured: README).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
})
