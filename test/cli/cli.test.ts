/**
 * The deepvis CLI, called in-process on a tiny model written to a temp folder:
 * output files and their contents, overwrite refusal, and every class of bad input
 * (one clear line, exit code 2, nothing written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { cli } from '../helpers/cli.ts'
import { decodeNpy } from '../../src/engine/node/npy.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { TINY_SIDECAR, writeModelFolder } from '../fixtures/model-folder.ts'

let tmp = ''
let modelDir = ''

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-cli-'))
  modelDir = await writeModelFolder(path.join(tmp, 'tiny'), await tinyCnnArtifacts(7), TINY_SIDECAR)
  await writeFile(path.join(modelDir, 'labels.txt'), 'zero\none\ntwo\nthree\nfour\n')
})
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const base = (): string[] => ['optimize', '--model', modelDir, '--backend', 'cpu']

describe('deepvis optimize', () => {
  it('writes best/last/majority images, info.txt, info.json and arrays', async () => {
    const out = path.join(tmp, 'r1') + '/'
    const r = await cli(...base(), '--preset', 'yosinski-3', '--max-iter', '25', '--output-prefix', out)
    expect(r.err).not.toMatch(/error/)
    expect(r.code).toBe(0)
    const files = readdirSync(out)
    const prefix = 'logits_0001_0_'
    for (const f of ['best_X.png', 'best_Xpm.png', 'last_X.png', 'last_Xpm.png', 'info.txt', 'info.json', 'x0.npy', 'best.npy', 'last.npy']) {
      expect(files).toContain(prefix + f)
    }
    expect(files.some((f) => f.startsWith('.'))).toBe(false) // no temp files left
    const info = JSON.parse(readFileSync(path.join(out, prefix + 'info.json'), 'utf8'))
    // preset values, with the model's default unit from its sidecar
    expect(info.params).toMatchObject({ push_layer: 'logits', push_channel: 1, decay: 0.0001, blur_radius: 1, blur_every: 4, lr_policy: 'constant', lr_params: { lr: 100 }, max_iter: 25 })
    const series = info.series
    expect(series.obj).toHaveLength(25)
    expect(series.ii[24]).toBe(24)
    expect(series.obj.every(Number.isFinite)).toBe(true)
    expect(series.lr.slice(0, 24)).toEqual(new Array(24).fill(100))
    expect(info.backend).toBe('cpu')
    const meta = JSON.stringify(info)
    expect(meta).toMatch(/Metaresult: majority (success|failure)/)
    const txt = readFileSync(path.join(out, prefix + 'info.txt'), 'utf8')
    expect(txt).toMatch(/FindParams:/)
    expect(txt).toMatch(/FindResults:/)
    expect(txt).toMatch(/push_layer: logits/)
    const png = await sharp(path.join(out, prefix + 'best_X.png')).metadata()
    expect([png.width, png.height, png.channels]).toEqual([16, 16, 3])
    const x0 = decodeNpy(new Uint8Array(readFileSync(path.join(out, prefix + 'x0.npy'))))
    expect(x0.shape).toEqual([3, 16, 16])
    // DVT's documented x0 for seed 0: 10 * np.random.randn, CHW order
    expect(x0.data[0]).toBeCloseTo(17.6405234597, 4)
    expect(x0.data[1]).toBeCloseTo(4.00157208367, 4)
    expect(r.out).toMatch(/wrote \d+ files/)
  })

  it('explicit flags override the preset; --skipbig omits the arrays; the template names files', async () => {
    const out = path.join(tmp, 'r2') + '/'
    const r = await cli(...base(), '--preset', 'yosinski-3', '--decay', '0.01', '--max-iter', '3', '--skipbig',
      '--push-layer', 'conv_b', '--push-channel', '4', '--output-prefix', out, '--output-template', 'u%(p.push_channel)d')
    expect(r.code).toBe(0)
    const files = readdirSync(out)
    expect(files).toContain('u4_info.json')
    expect(files.some((f) => f.endsWith('.npy'))).toBe(false)
    const info = JSON.parse(readFileSync(path.join(out, 'u4_info.json'), 'utf8'))
    expect(info.params.decay).toBe(0.01)
    expect(info.params.blur_radius).toBe(1)
    // conv layer: default spatial position is the centre (floor(H/2), floor(W/2)) of its 8x8 map
    expect(info.target.spatial).toEqual([4, 4])
  })

  it('refuses to overwrite an existing result without --brave, and overwrites with it', async () => {
    const out = path.join(tmp, 'r3') + '/'
    expect((await cli(...base(), '--max-iter', '2', '--output-prefix', out)).code).toBe(0)
    const before = readFileSync(path.join(out, 'logits_0001_0_info.json'), 'utf8')
    const again = await cli(...base(), '--max-iter', '3', '--output-prefix', out)
    expect(again.code).toBe(2)
    expect(again.err).toMatch(/refusing to overwrite .*--brave/)
    expect(readFileSync(path.join(out, 'logits_0001_0_info.json'), 'utf8')).toBe(before)
    const brave = await cli(...base(), '--max-iter', '3', '--output-prefix', out, '--brave')
    expect(brave.code).toBe(0)
    expect(JSON.parse(readFileSync(path.join(out, 'logits_0001_0_info.json'), 'utf8')).params.max_iter).toBe(3)
  })

  it('minimizes with --push-dir -1 (best is the lowest activation)', async () => {
    const out = path.join(tmp, 'r4') + '/'
    const r = await cli(...base(), '--push-dir', '-1', '--lr-params', "{'lr': 100.0}", '--max-iter', '15', '--output-prefix', out)
    expect(r.code).toBe(0)
    const info = JSON.parse(readFileSync(path.join(out, 'logits_0001_0_info.json'), 'utf8'))
    const obj: number[] = info.series.obj
    expect(obj[obj.length - 1]).toBeLessThan(obj[0])
    expect(info.best.obj).toBe(Math.min(...obj))
  })
})

describe('deepvis errors: one clear line, exit code 2, nothing written', () => {
  async function expectError(args: string[], pattern: RegExp): Promise<void> {
    const out = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}`) + '/'
    const r = await cli(...args, '--output-prefix', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(pattern)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(existsSync(out)).toBe(false)
  }

  it('a blur radius whose kernel could never fit (1e9) is refused up front, not an internal error', async () => {
    await expectError([...base(), '--blur-radius', '1e9', '--blur-every', '1'], /blur_radius must be in \[0, 500\] pixels; got 1000000000/)
  })
  it('a wrong layer name names the closest layers', async () => {
    await expectError([...base(), '--push-layer', 'logit'], /no layer named 'logit'.*did you mean 'logits'/)
  })
  it('a channel out of range says the allowed range', async () => {
    await expectError([...base(), '--push-channel', '5'], /channel 5 is out of range: layer 'logits' has 5 units \(0\.\.4\)/)
  })
  it('a spatial position out of range', async () => {
    await expectError([...base(), '--push-layer', 'conv_b', '--push-spatial', '(9,0)'], /spatial position \(9, 0\) is out of range/)
  })
  it('an unknown flag', async () => {
    await expectError([...base(), '--blurr-radius', '1'], /unknown option '--blurr-radius'/)
  })
  it('an unknown preset', async () => {
    await expectError([...base(), '--preset', 'lucid-9'], /unknown preset 'lucid-9'; available: yosinski-1/)
  })
  it('an unparsable --lr-params', async () => {
    await expectError([...base(), '--lr-params', "{'lr': 1"], /cannot parse --lr-params/)
  })
  it('lr-params missing a key the policy needs', async () => {
    await expectError([...base(), '--lr-policy', 'progress', '--lr-params', "{'lr': 1}"], /requires lr_params keys max_lr, desired_prog/)
  })
  it('a bad number', async () => {
    await expectError([...base(), '--decay', 'lots'], /--decay "lots" is not valid: expected a number/)
  })
  it('a Caffe-only flag points to --model', async () => {
    await expectError([...base(), '--net-weights', 'x.caffemodel'], /--net-weights is Caffe-only.*--model/)
  })
  it('a missing model folder', async () => {
    await expectError(['optimize', '--model', path.join(tmp, 'nope'), '--backend', 'cpu'], /model path .*nope does not exist/)
  })

  describe('malformed model folders', () => {
    async function brokenCopy(name: string, breakIt: (dir: string) => Promise<void>): Promise<string> {
      const dir = path.join(tmp, name)
      await writeModelFolder(dir, await tinyCnnArtifacts(7), TINY_SIDECAR)
      await copyFile(path.join(modelDir, 'labels.txt'), path.join(dir, 'labels.txt'))
      await breakIt(dir)
      return dir
    }
    it('bad JSON', async () => {
      const dir = await brokenCopy('badjson', async (d) => { await writeFile(path.join(d, 'model.json'), '{"modelTopology": ') })
      await expectError(['optimize', '--model', dir, '--backend', 'cpu'], /model\.json is not valid JSON/)
    })
    it('missing weight shard', async () => {
      const dir = await brokenCopy('noshard', async (d) => { await rm(path.join(d, 'weights.bin')) })
      await expectError(['optimize', '--model', dir, '--backend', 'cpu'], /missing weight file weights\.bin/)
    })
    it('truncated weight shard', async () => {
      const dir = await brokenCopy('truncated', async (d) => {
        const size = (await readFile(path.join(d, 'weights.bin'))).length
        await truncate(path.join(d, 'weights.bin'), size - 100)
      })
      await expectError(['optimize', '--model', dir, '--backend', 'cpu'], /hold \d+ bytes but model\.json describes \d+ \(truncated/)
    })
    it('a sidecar with the wrong format tag', async () => {
      const dir = await brokenCopy('badsidecar', async (d) => { await writeFile(path.join(d, 'deepvis.json'), JSON.stringify({ ...TINY_SIDECAR, format: 'v0' })) })
      await expectError(['optimize', '--model', dir, '--backend', 'cpu'], /"format" must be "deepvis-input-spec@1"/)
    })
  })
})

describe('deepvis layers', () => {
  it('lists every layer with type, shape and units, marking the class layer', async () => {
    const r = await cli('layers', '--model', modelDir, '--backend', 'cpu')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/conv_a\s+Conv2D\s+\[16, 16, 6\]\s+6/)
    expect(r.out).toMatch(/logits\s+Dense\s+\[5\]\s+5\s+labels: zero, one, two/)
  })
  it('--layer lists the units of a class layer with their labels', async () => {
    const r = await cli('layers', '--model', modelDir, '--backend', 'cpu', '--layer', 'logits')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^\s+3\s+three$/m)
  })
  it('--json is machine-readable', async () => {
    const r = await cli('layers', '--model', modelDir, '--backend', 'cpu', '--json')
    const j = JSON.parse(r.out)
    expect(j.layers.find((l: { name: string }) => l.name === 'pool_max')).toMatchObject({ shape: [4, 4, 12], units: 12 })
  })
})
