/**
 * The layer boundaries of eslint.config.js (drawn in docs/architecture.md) hold: each rule reports a
 * small violating snippet placed at a path in its layer (ESLint's Node API, lintText with filePath, so
 * the imports resolve against the real tree), the same snippet's allowed twin passes, and the real
 * src/ tree has no error.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const eslint = new ESLint({ cwd: root })

/** Rule ids of the errors ESLint reports for `code` as if it were the file `rel`. */
async function errors(rel: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: path.join(root, rel), warnIgnored: true })
  return res.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`)
}

const PATHS = 'import-x/no-restricted-paths'
const IMPORTS = 'no-restricted-imports'

// [what, file, violating code, rule expected, allowed code at the same place]
const CASES: [string, string, string, string, string][] = [
  ['renderer -> engine', 'src/renderer/src/stores/probe.ts',
    "import { PRESETS } from '../../../engine/params.ts'\nexport const n = PRESETS.length\n", PATHS,
    "import { formatMagnitude } from '../../../shared/format.ts'\nexport const f = formatMagnitude\n"],
  ['renderer (.vue) -> host', 'src/renderer/src/components/ProbePanel.vue',
    "<script setup lang=\"ts\">\nimport { presetInfos } from '../../../host/presets.ts'\nconst p = presetInfos\n</script>\n<template><div>{{ p }}</div></template>\n", PATHS,
    "<script setup lang=\"ts\">\nimport { ref } from 'vue'\nconst p = ref(1)\n</script>\n<template><div>{{ p }}</div></template>\n"],
  ['renderer -> a Node package', 'src/renderer/src/stores/probe.ts',
    "import sharp from 'sharp'\nexport const s = sharp\n", IMPORTS,
    "import { defineStore } from 'pinia'\nimport { use } from 'echarts/core'\nexport const s = [defineStore, use]\n"],
  ['preload -> host', 'src/preload/probe.ts',
    "import { registerIpc } from '../host/ipc.ts'\nexport const r = registerIpc\n", PATHS,
    "import { ipcRenderer } from 'electron'\nimport { INVOKE_CHANNELS } from '../shared/ipc-contract.ts'\nexport const r = [ipcRenderer, INVOKE_CHANNELS]\n"],
  ['preload -> another package', 'src/preload/probe.ts',
    "import { z } from 'zod'\nexport const r = z\n", IMPORTS,
    "import { contextBridge } from 'electron'\nexport const r = contextBridge\n"],
  ['shared -> engine', 'src/shared/probe.ts',
    "import { PRESETS } from '../engine/params.ts'\nexport const n = PRESETS.length\n", PATHS,
    "import { DeepVisError } from './errors.ts'\nexport const e = DeepVisError\n"],
  ['shared -> a package other than zod', 'src/shared/probe.ts',
    "import JSON5 from 'json5'\nexport const j = JSON5\n", IMPORTS,
    "import { z } from 'zod'\nexport const s = z.string()\n"],
  ['engine -> host', 'src/engine/probe.ts',
    "import { presetInfos } from '../host/presets.ts'\nexport const p = presetInfos\n", PATHS,
    "import { DeepVisError } from '../shared/errors.ts'\nexport const e = DeepVisError\n"],
  ['portable engine -> Node built-in', 'src/engine/methods/probe.ts',
    "import { readFileSync } from 'node:fs'\nexport const r = readFileSync\n", IMPORTS,
    "import * as tf from '@tensorflow/tfjs'\nexport const t = tf.tidy\n"],
  ['portable engine -> bare Node built-in', 'src/engine/probe.ts',
    "import path from 'path'\nexport const p = path\n", IMPORTS,
    "import JSON5 from 'json5'\nexport const j = JSON5\n"],
  ['portable engine -> engine/node', 'src/engine/model/probe.ts',
    "import { limits } from '../node/limits.ts'\nexport const l = limits\n", PATHS,
    "import { meanIsImage } from './input-spec.ts'\nexport const m = meanIsImage\n"],
  ['portable engine -> DOM global', 'src/engine/probe.ts',
    "export const w = document.body\n", 'no-restricted-globals',
    "export const w = Math.max(1, 2)\n"],
  ['portable engine -> Node global', 'src/engine/probe.ts',
    "export const cwd = process.cwd()\n", 'no-restricted-globals',
    "export const now = Date.now()\n"],
  ['engine/node -> electron', 'src/engine/node/probe.ts',
    "import { app } from 'electron'\nexport const a = app\n", IMPORTS,
    "import { readFile } from 'node:fs/promises'\nimport sharp from 'sharp'\nexport const a = [readFile, sharp]\n"],
  ['engine/node -> vue', 'src/engine/node/probe.ts',
    "import { ref } from 'vue'\nexport const r = ref\n", IMPORTS,
    "import { DeepVisError } from '../../shared/errors.ts'\nexport const e = DeepVisError\n"],
  ['CLI -> engine internals', 'src/cli/probe.ts',
    "import { optimizeImage } from '../engine/optimize.ts'\nexport const o = optimizeImage\n", PATHS,
    "import { optimizeImage } from '../engine/index.ts'\nexport const o = optimizeImage\n"],
  ['host -> engine/node internals', 'src/host/probe.ts',
    "import { loadModelFolder } from '../engine/node/load-model.ts'\nexport const l = loadModelFolder\n", PATHS,
    "import { loadModelFolder } from '../engine/node/index.ts'\nexport const l = loadModelFolder\n"],
  ['web -> engine internals', 'src/web/probe.ts',
    "import { INFO_JSON } from '../engine/node/save-results.ts'\nexport const i = INFO_JSON\n", PATHS,
    "import { INFO_JSON } from '../engine/node/tf-free.ts'\nexport const i = INFO_JSON\n"],
  ['sweep -> engine internals', 'src/sweep/probe.ts',
    "import { PRESETS } from '../engine/params.ts'\nexport const p = PRESETS\n", PATHS,
    "import { PRESETS } from '../engine/index.ts'\nexport const p = PRESETS\n"],
  ['CLI -> engine internals by a dynamic import', 'src/cli/probe.ts',
    "export const m = await import('../engine/optimize.ts')\n", PATHS,
    "export const m = await import('../engine/index.ts')\n"],
  ['CLI -> engine by a tsconfig alias (would bypass the resolved-path rules)', 'src/cli/probe.ts',
    "import { PRESETS } from '@engine/params.ts'\nexport const p = PRESETS\n", IMPORTS,
    "import { PRESETS } from '../engine/index.ts'\nexport const p = PRESETS\n"],
  ['Electron shell -> vue', 'src/main/probe.ts',
    "import { ref } from 'vue'\nexport const r = ref\n", IMPORTS,
    "import { app } from 'electron'\nimport { registerIpc } from '../host/ipc.ts'\nexport const r = [app, registerIpc]\n"],
  ['host -> electron', 'src/host/probe.ts',
    "import { BrowserWindow } from 'electron'\nexport const b = BrowserWindow\n", IMPORTS,
    "import { Worker } from 'node:worker_threads'\nexport const b = Worker\n"],
  ['host -> the Electron shell', 'src/host/probe.ts',
    "import * as shell from '../main/index.ts'\nexport const s = shell\n", PATHS,
    "import { presetInfos } from './presets.ts'\nexport const s = presetInfos\n"],
]

describe('layer boundaries (eslint.config.js)', () => {
  it.each(CASES)('%s: reported in %s, and the allowed import passes', async (_what, file, bad, rule, good) => {
    const bad_ = await errors(file, bad)
    expect(bad_.some((m) => m.startsWith(`${rule}:`)), bad_.join('\n')).toBe(true)
    expect(await errors(file, good)).toEqual([])
  })

  it('the real src/ tree has no lint error', async () => {
    const results = await eslint.lintFiles(['src'])
    const problems = results.flatMap((r) => r.messages.filter((m) => m.severity === 2)
      .map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`))
    expect(problems).toEqual([])
    expect(results.length).toBeGreaterThan(150)
  }, 300_000)
})
