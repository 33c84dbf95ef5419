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
    // tfjs backends are process-global state: keep each test file in its own fork, one at a time per core.
    pool: 'forks',
  },
})
