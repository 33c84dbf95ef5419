// ESLint flat config: correctness rules only (typescript-eslint and eslint-plugin-vue recommended sets,
// no formatting rules), plus the layer boundaries of docs/architecture.md (see boundaries below).
import { defineConfig } from 'eslint/config'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'

const root = import.meta.dirname
const HOSTS = ['src/cli', 'src/host', 'src/web', 'src/sweep', 'src/main', 'src/launcher']

/** The tsconfig path aliases: the boundary rules resolve relative paths only, so an alias would slip past them. */
const NO_ALIASES = [{ group: ['@engine/*', '@shared/*', '@renderer/*'], message: 'Import by a relative path: the layer boundaries are checked on resolved relative paths.' }]

/** no-restricted-imports `paths` entries refusing these packages outside their layer. */
const packagesOf = (names) => names.map((name) => ({ name,
  message: 'electron belongs to src/main and src/preload; vue, pinia and echarts to the renderer.' }))

/** no-restricted-imports allowing only relative imports and the listed packages (exact name or a subpath of it). */
const onlyPackages = (names, why) => ['error', {
  patterns: [{ regex: `^(?!\\.|(${names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})(/|$))`, message: why }],
}]

export default defineConfig(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'optimize_results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (a signature to match, a rest-omit).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read the CLI's untyped info.json back and index into it freely; the product code keeps the rule.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/renderer/**/*.{ts,vue}', 'test/renderer/**/*.ts', 'src/sweep/site/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // ---- Layer boundaries (docs/architecture.md draws them). Paths are resolved, so a rule holds whatever
  // the number of ../ in the specifier. Packages are checked by name with no-restricted-imports.
  {
    files: ['src/**/*.{ts,vue}'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.vue', '.js', '.mjs', '.d.ts'] })] },
    rules: {
      'import-x/no-restricted-paths': ['error', {
        basePath: root,
        zones: [
          { target: 'src/renderer', from: 'src', except: ['./renderer', './shared'],
            message: 'The renderer imports only src/shared (it talks to the rest through window.vis / the WebSocket).' },
          { target: 'src/preload', from: 'src', except: ['./preload', './shared'],
            message: 'The preload imports only electron and src/shared (one method per channel of the contract).' },
          { target: 'src/shared', from: 'src', except: ['./shared'],
            message: 'src/shared imports nothing outside itself: both the renderer and the engine depend on it.' },
          { target: 'src/engine', from: 'src', except: ['./engine', './shared'],
            message: 'The engine imports only itself and src/shared; hosts call the engine, not the reverse.' },
          { target: ['src/engine/!(node)/**', 'src/engine/*.ts'], from: 'src/engine/node',
            message: 'Only src/engine/node/ may use Node; the portable engine must not import it.' },
          { target: HOSTS, from: 'src/engine', except: ['./index.ts', './node/index.ts', './node/tf-free.ts'],
            message: 'Hosts use the engine through src/engine/index.ts (portable), src/engine/node/index.ts (Node side) and src/engine/node/tf-free.ts (what loads no TensorFlow.js, for a host main thread) only.' },
          { target: ['src/engine', 'src/shared', 'src/cli', 'src/host', 'src/web', 'src/sweep', 'src/launcher', 'src/preload'], from: 'src/main',
            message: 'src/main is the Electron shell alone; nothing imports it.' },
        ],
      }],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    rules: { 'no-restricted-imports': onlyPackages(['vue', 'pinia', 'echarts'], 'The renderer uses only vue, pinia and echarts (and src/shared, by a relative path).') },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: { 'no-restricted-imports': onlyPackages(['electron'], 'The preload uses only electron (and src/shared).') },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': onlyPackages(['zod'], 'src/shared uses no package but zod: the renderer and the engine both load it.') },
  },
  {
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/node/**'],
    rules: {
      'no-restricted-imports': onlyPackages(['@tensorflow/tfjs', 'fastest-levenshtein', 'json5', 'onnx-proto'],
        'The portable engine uses only pure-JS packages (listed in eslint.config.js); Node built-ins and Node-only packages go in src/engine/node/.'),
      'no-restricted-globals': ['error', ...['window', 'document', 'navigator', 'localStorage', 'HTMLElement', 'HTMLCanvasElement', 'Image', 'process', 'Buffer', 'require', '__dirname']
        .map((name) => ({ name, message: 'The portable engine has no DOM and no Node globals (Node-side code lives in src/engine/node/).' }))],
    },
  },
  {
    files: ['src/engine/node/**/*.ts', 'src/cli/**/*.ts', 'src/host/**/*.ts', 'src/web/**/*.ts', 'src/sweep/**/*.ts', 'src/launcher/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: packagesOf(['electron', 'vue', 'pinia', 'echarts']), patterns: NO_ALIASES }] },
  },
  {
    files: ['src/main/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: packagesOf(['vue', 'pinia', 'echarts']), patterns: NO_ALIASES }] },
  },
)
