/**
 * electron-vite build of the three Electron processes:
 * - main (src/main/index.ts, ESM): the engine is bundled from src/engine; packages listed in
 *   `dependencies` (@tensorflow/*, sharp, zod…) stay external and load from node_modules.
 * - preload (src/preload/index.ts): CommonJS as out/preload/index.cjs, because a sandboxed
 *   renderer cannot load an ES-module preload (Electron's ESM guide); everything it imports
 *   except 'electron' is bundled in.
 * - renderer (src/renderer/index.html, Vue).
 * Aliases: @shared → src/shared, @engine → src/engine, @renderer → src/renderer/src.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))
const aliases = {
  '@shared': resolve(root, 'src/shared'),
  '@engine': resolve(root, 'src/engine'),
  '@renderer': resolve(root, 'src/renderer/src'),
}

/**
 * The dev server injects component styles as <style> elements, which the strict CSP in
 * index.html forbids; allow inline styles in the served page only, never in a build.
 */
function devStyleCsp(): Plugin {
  return {
    name: 'deepvis:dev-style-csp',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';"),
  }
}

export default defineConfig({
  main: {
    resolve: { alias: aliases },
    build: {
      rollupOptions: { input: { index: resolve(root, 'src/main/index.ts') } },
    },
  },
  preload: {
    resolve: { alias: aliases },
    build: {
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    resolve: { alias: aliases },
    plugins: [vue(), devStyleCsp()],
    build: {
      rollupOptions: { input: { index: resolve(root, 'src/renderer/index.html') } },
    },
  },
})
