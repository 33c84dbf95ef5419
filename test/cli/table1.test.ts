/**
 * The four Table-1 command lines of DVT's docs (seeds/deepvis-toolbox-optimize-image.md) run as
 * written, with --model and an existing --push-layer added, on the embedded default model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { main } from '../../src/cli/main.ts'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'
import { PRESETS } from '../../src/engine/params.ts'

// Verbatim from the DVT docs, in Table 1's order.
const TABLE_1 = [
  `./optimize_image.py --decay 0      --blur-radius 0.5 --blur-every 4  --small-norm-percentile 50     --max-iter 500  --lr-policy progress --lr-params "{'max_lr': 100.0, 'desired_prog': 2.0}"`,
  `./optimize_image.py --decay 0.3    --blur-radius 0   --blur-every 0  --small-norm-percentile 20     --max-iter 750  --lr-policy constant --lr-params "{'lr': 100.0}"`,
  `./optimize_image.py --decay 0.0001 --blur-radius 1.0 --blur-every 4                                 --max-iter 1000 --lr-policy constant --lr-params "{'lr': 100.0}"`,
  `./optimize_image.py --decay 0      --blur-radius 0.5 --blur-every 4  --px-abs-benefit-percentile 90 --max-iter 1000 --lr-policy progress --lr-params "{'max_lr': 100000000, 'desired_prog': 2.0}"`,
]

/** Split a shell command line on blanks, honouring double quotes (enough for these lines). */
function shellSplit(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2])
}

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-table1-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe("DVT's Table-1 command lines", () => {
  it.each(TABLE_1.map((line, i) => [i + 1, line] as const))('row %i runs as written and matches its preset', async (row, line) => {
    const argv = shellSplit(line).slice(1) // drop ./optimize_image.py
    const out = path.join(tmp, `row${row}`) + '/'
    let err = ''
    const code = await main(['optimize', ...argv, '--model', DEFAULT_MODEL_DIR, '--push-layer', 'logits', '--push-channel', '2', '--output-prefix', out],
      { stdout: () => {}, stderr: (t) => { err += t }, isTTY: false })
    expect(err).not.toMatch(/error/)
    expect(code).toBe(0)
    const info = JSON.parse(readFileSync(path.join(out, 'logits_0002_0_info.json'), 'utf8'))
    expect(info.params).toMatchObject(PRESETS[`yosinski-${row}`].params)
    expect(info.series.obj).toHaveLength(info.params.max_iter)
    expect(info.series.obj.every(Number.isFinite)).toBe(true)
    expect(info.best.obj).toBeGreaterThan(info.series.obj[0])
  }, 600_000)
})
