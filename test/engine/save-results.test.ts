/**
 * Result files: DVT's prefix naming, overwrite refusal, PNG normalizations and channel swap, info.txt /
 * info.json contents, .npy arrays, and atomic writing (no temp files, nothing partial on failure).
 * Uses a small fake OptimizeResult (4x5x3); no tfjs.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import type { InputSpec } from '../../src/engine/model/input-spec.ts'
import { decodeNpy, hwcToChw } from '../../src/engine/node/npy.ts'
import {
  checkCanWrite, DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, formatInfoTxt, pyFloat, resultPrefix,
  RESULT_FORMAT, saveResults,
} from '../../src/engine/node/save-results.ts'
import { resolveParams, type FindParams } from '../../src/engine/params.ts'
import type { DvtResult } from '../../src/engine/result.ts'

const H = 4
const W = 5
const C = 3
const N = H * W * C

function params(over: Partial<FindParams> = {}): FindParams {
  return resolveParams({ push_layer: 'fc8', push_channel: 130, ...over })
}

function spec(over: Partial<InputSpec> = {}): InputSpec {
  return {
    height: H, width: W, channels: C, channelOrder: 'BGR', mean: Float32Array.of(104, 117, 123),
    scale: [1, 1, 1], offset: [0, 0, 0], labels: null, source: 'test', ...over,
  }
}

/** A ramp image, different per seed, HWC model order. */
function ramp(seed: number): Float32Array {
  return Float32Array.from({ length: N }, (_, i) => Math.sin(i * 0.37 + seed) * 40 + seed)
}

function fakeResult(over: Partial<DvtResult> = {}): DvtResult {
  return {
    params: params(),
    target: { layer: 'fc8', layerType: 'Dense', layerShape: [1000], channel: 130, spatial: null, pushUnit: [130, 0, 0], label: 'flamingo' },
    inputSpec: spec(),
    backend: 'cpu',
    rng: { name: 'mt19937', seed: 0 },
    x0: ramp(0),
    best: { ii: 4, obj: 71.186447, x: ramp(4) },
    last: { ii: 5, obj: 68.1828, x: ramp(5) },
    majority: { ii: 2, obj: 8.44836, x: ramp(2) },
    metaResult: 'Metaresult: majority success',
    series: {
      ii: [0, 1, 2, 3, 4, 5],
      obj: [-1.30543, -0.756828, 8.44836, 50, 71.186447, 68.1828],
      idxmax: [[330, 0, 0], [533, 0, 0], [130, 0, 0], [130, 0, 0], [130, 0, 0], [130, 0, 0]],
      ismax: [false, false, true, true, true, true],
      norm: [3921.52364497, 1118.42893441, 700, 650, 639.989254329, 647.378869524],
      dist: [1.9916364387e-12, 3413.05052366, 3500, 3600, 3956.88723303, 3957.78892399],
      std: [9.97384688005, 2.84414857575, 2, 1.8, 1.62728852151, 1.6460861413],
      lr: [100, 100, 100, 100, 100, NaN],
      wall_ms: [12, 3, 3, 3, 3, 3],
    },
    interrupted: false,
    totalMs: 27,
    ...over,
  }
}

async function decodePng(file: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(readFileSync(file)).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels }
}

function catchError(fn: () => unknown): DeepVisError {
  try {
    fn()
  } catch (err) {
    if (err instanceof DeepVisError) return err
    throw err
  }
  throw new Error('expected a DeepVisError')
}

async function catchAsync(p: Promise<unknown>): Promise<DeepVisError> {
  try {
    await p
  } catch (err) {
    if (err instanceof DeepVisError) return err
    throw err
  }
  throw new Error('expected a DeepVisError')
}

let tmp: string
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-save-'))
})
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true })
})

const hidden = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('.'))

describe('resultPrefix', () => {
  it("gives DVT's default prefix optimize_results/opt_fc8_0130_0_", () => {
    expect(resultPrefix(DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, params())).toBe('optimize_results/opt_fc8_0130_0_')
  })

  it('puts files inside an existing directory, or a prefix ending with /', () => {
    expect(resultPrefix(tmp, DEFAULT_OUTPUT_TEMPLATE, params())).toBe(`${tmp}/fc8_0130_0_`)
    expect(resultPrefix(`${tmp}/not-yet/`, DEFAULT_OUTPUT_TEMPLATE, params())).toBe(`${tmp}/not-yet/fc8_0130_0_`)
  })

  it('sanitizes substituted layer names with / for file names', () => {
    expect(resultPrefix('out/opt', DEFAULT_OUTPUT_TEMPLATE, params({ push_layer: 'loss3/classifier', push_channel: 5, rand_seed: 12 })))
      .toBe('out/opt_loss3_classifier_0005_12_')
    expect(resultPrefix('o', '%(p.push_layer)s', params({ push_layer: 'inception_4a/output' }))).toBe('o_inception_4a_output_')
    expect(resultPrefix('o', '%(p.push_spatial)s_%(p.decay)s', params({ push_spatial: [6, 6], decay: 0.0001 }))).toBe('o__6__6__0.0001_')
  })

  it('keeps %% as a literal % and accepts a template without placeholders', () => {
    expect(resultPrefix('o', 'run%%1', params())).toBe('o_run%1_')
    expect(resultPrefix('o', 'fixed', params())).toBe('o_fixed_')
  })

  it.each([
    ['%(p.nope)s', /unknown key 'p.nope'/],
    ['%(r.best_obj)s', /unknown key 'r.best_obj'/],
    ['%s_%d', /bare '%'/],
    ['%(p.push_layer)d', /expecting number/],
    ['%(p.push_layer', /bare '%'/],
  ])('rejects template %j with one BAD_PARAM line naming the allowed keys', (template, why) => {
    const err = catchError(() => resultPrefix('o', template, params()))
    expect(err.code).toBe('BAD_PARAM')
    expect(err.message).toMatch(why)
    expect(err.message).toContain(JSON.stringify(template))
    expect(err.message).toContain('p.push_layer, ')
    expect(err.message).not.toContain('\n')
  })
})

describe('checkCanWrite', () => {
  it('refuses an existing info.txt or info.json unless brave', () => {
    const prefix = `${tmp}/opt_`
    expect(() => checkCanWrite(prefix, false)).not.toThrow()
    writeFileSync(`${prefix}info.txt`, 'old')
    const err = catchError(() => checkCanWrite(prefix, false))
    expect(err.code).toBe('OUTPUT_EXISTS')
    expect(err.message).toBe(`refusing to overwrite existing result ${prefix}info.txt (pass --brave to overwrite)`)
    writeFileSync(`${prefix}info.json`, '{}')
    expect(catchError(() => checkCanWrite(prefix, false)).message).toContain(`${prefix}info.json`)
    expect(() => checkCanWrite(prefix, true)).not.toThrow()
  })
})

describe('saveResults', () => {
  it('writes every file, info.json last, leaves no temp files, and refuses to overwrite without brave', async () => {
    const prefix = `${tmp}/sub/dir/opt_fc8_0130_0_`
    const written = await saveResults(fakeResult(), prefix, { brave: false, skipbig: false })
    const names = written.map((f) => path.basename(f))
    expect(names).toEqual([
      'opt_fc8_0130_0_best_X.png', 'opt_fc8_0130_0_best_Xpm.png', 'opt_fc8_0130_0_last_X.png', 'opt_fc8_0130_0_last_Xpm.png',
      'opt_fc8_0130_0_majority_X.png', 'opt_fc8_0130_0_majority_Xpm.png', 'opt_fc8_0130_0_info.txt',
      'opt_fc8_0130_0_x0.npy', 'opt_fc8_0130_0_best.npy', 'opt_fc8_0130_0_last.npy', 'opt_fc8_0130_0_majority.npy',
      'opt_fc8_0130_0_info.json',
    ])
    expect(written.every((f) => f.startsWith(prefix) && existsSync(f))).toBe(true)
    expect(readdirSync(`${tmp}/sub/dir`).sort()).toEqual([...names].sort())

    const err = await catchAsync(saveResults(fakeResult(), prefix, { brave: false, skipbig: false }))
    expect(err.code).toBe('OUTPUT_EXISTS')
    expect(err.message).toContain('--brave')

    const second = await saveResults(fakeResult({ totalMs: 99 }), prefix, { brave: true, skipbig: false })
    expect(second).toEqual(written)
    expect(JSON.parse(readFileSync(`${prefix}info.json`, 'utf8')).total_ms).toBe(99)
    expect(hidden(`${tmp}/sub/dir`)).toEqual([])
  })

  it('writes X with norm01c: zero image at mid-grey, largest |v| at 0 or 255, right size', async () => {
    const zero = new Float32Array(N)
    const peaks = new Float32Array(N).fill(0)
    peaks[0] = 10 // pixel 0, model channel B
    peaks[1] = -4
    peaks[C * 7 + 2] = -10 // pixel 7, model channel R
    const r = fakeResult({ best: { ii: 0, obj: 1, x: zero }, last: { ii: 1, obj: 0, x: peaks }, majority: null })
    const prefix = `${tmp}/opt_`
    await saveResults(r, prefix, { brave: false, skipbig: true })

    const best = await decodePng(`${prefix}best_X.png`)
    expect([best.width, best.height, best.channels]).toEqual([W, H, 3])
    expect(new Set(best.data)).toEqual(new Set([128]))

    const last = await decodePng(`${prefix}last_X.png`)
    // BGR model order -> RGB: model channel 0 (B) lands in PNG channel 2.
    expect(last.data[2]).toBe(255) // +10 = max |v|
    expect(last.data[7 * 3 + 0]).toBe(0) // -10 = -max |v|
    expect(last.data[1]).toBe(Math.round((-4 / 20 + 0.5) * 255)) // G of pixel 0: -4 -> 0.3
    expect(last.data[5 * 3 + 1]).toBe(128) // an untouched pixel is mid-grey
  })

  it('writes Xpm as x + per-channel mean, min-max stretched', async () => {
    const x = new Float32Array(N)
    x[0] = 50 // pixel 0, channel B: 50 + 104 = 154
    const r = fakeResult({ best: { ii: 0, obj: 1, x }, last: null, majority: null, inputSpec: spec({ mean: Float32Array.of(104, 117, 123) }) })
    const prefix = `${tmp}/opt_`
    await saveResults(r, prefix, { brave: false, skipbig: true })
    const png = await decodePng(`${prefix}best_Xpm.png`)
    // Values: B=104 (154 at pixel 0), G=117, R=123 -> min 104, max 154, span 50.
    const expectByte = (v: number): number => Math.round(((v - 104) / (50 + 1e-10)) * 255)
    expect(Array.from(png.data.subarray(0, 3))).toEqual([expectByte(123), expectByte(117), 255])
    expect(Array.from(png.data.subarray(3, 6))).toEqual([expectByte(123), expectByte(117), 0])
    expect(existsSync(`${prefix}last_X.png`)).toBe(false)
  })

  it('adds a full mean image in Xpm and stores it as mean.npy', async () => {
    const meanImg = Float32Array.from({ length: N }, (_, i) => i) // HWC, model order
    const x = new Float32Array(N)
    const r = fakeResult({ best: { ii: 0, obj: 1, x }, last: null, majority: null, inputSpec: spec({ mean: meanImg, channelOrder: 'RGB' }) })
    const prefix = `${tmp}/opt_`
    await saveResults(r, prefix, { brave: false, skipbig: false })
    const png = await decodePng(`${prefix}best_Xpm.png`)
    expect(png.data[0]).toBe(0)
    expect(png.data[N - 1]).toBe(255)
    expect(png.data[30]).toBe(Math.round((30 / (N - 1)) * 255))
    const info = JSON.parse(readFileSync(`${prefix}info.json`, 'utf8'))
    expect(info.input_spec.mean).toBe(`image ${H}x${W}x${C}`)
    expect(info.input_spec.mean_file).toBe('opt_mean.npy')
    const mean = decodeNpy(readFileSync(`${prefix}mean.npy`))
    expect(mean.shape).toEqual([C, H, W])
    expect(Array.from(mean.data)).toEqual(Array.from(hwcToChw(meanImg, H, W, C)))
  })

  it('swaps BGR to RGB: pure blue in BGR order is blue in the PNG', async () => {
    const blue = new Float32Array(N)
    for (let p = 0; p < H * W; p++) {
      blue[p * 3 + 0] = 100 // B in model (BGR) order
      blue[p * 3 + 1] = -100
      blue[p * 3 + 2] = -100
    }
    const prefix = `${tmp}/opt_`
    await saveResults(fakeResult({ best: { ii: 0, obj: 1, x: blue }, last: null, majority: null }), prefix, { brave: false, skipbig: true })
    const png = await decodePng(`${prefix}best_X.png`)
    for (let p = 0; p < H * W; p++) expect(Array.from(png.data.subarray(p * 3, p * 3 + 3))).toEqual([0, 0, 255])
    // With an RGB model the same array is red.
    const prefix2 = `${tmp}/rgb_`
    await saveResults(fakeResult({ best: { ii: 0, obj: 1, x: blue }, last: null, majority: null, inputSpec: spec({ channelOrder: 'RGB' }) }), prefix2, { brave: false, skipbig: true })
    const png2 = await decodePng(`${prefix2}best_X.png`)
    expect(Array.from(png2.data.subarray(0, 3))).toEqual([255, 0, 0])
  })

  it('writes info.json with the series, meta_result, snapshots, files and extra', async () => {
    const prefix = `${tmp}/opt_`
    const files = await saveResults(fakeResult(), prefix, { brave: false, skipbig: false, extra: { preset: 'yosinski-3', argv: ['a', 'b'] } })
    const info = JSON.parse(readFileSync(`${prefix}info.json`, 'utf8'))
    expect(info.format).toBe(RESULT_FORMAT)
    expect(info.meta_result).toBe('Metaresult: majority success')
    expect(info.majority_reached).toBe(true)
    expect(info.best).toEqual({ ii: 4, obj: 71.186447 })
    expect(info.majority).toEqual({ ii: 2, obj: 8.44836 })
    expect(info.series.obj).toEqual(fakeResult().series.obj)
    expect(info.series.idxmax[0]).toEqual([330, 0, 0])
    expect(info.series.ismax).toEqual([false, false, true, true, true, true])
    expect(info.series.lr).toEqual([100, 100, 100, 100, 100, null]) // NaN: not stepped
    expect(info.series.dist[0]).toBe(1.9916364387e-12)
    expect(info.params.push_layer).toBe('fc8')
    expect(info.params.lr_params).toEqual({ lr: 1 })
    expect(info.target.push_unit).toEqual([130, 0, 0])
    expect(info.target.label).toBe('flamingo')
    expect(info.input_spec.mean).toEqual([104, 117, 123])
    expect(info.input_spec.channel_order).toBe('BGR')
    expect(info.backend).toBe('cpu')
    expect(info.rng).toEqual({ name: 'mt19937', seed: 0 })
    expect(info.interrupted).toBe(false)
    expect(info.array_layout).toMatch(/\(C, H, W\)/)
    expect(info.files).toEqual(files.map((f) => path.basename(f)))
    expect(info.extra).toEqual({ preset: 'yosinski-3', argv: ['a', 'b'] })
    expect(Number.isNaN(Date.parse(info.created))).toBe(false)
  })

  it('omits majority files when majority was never reached, and marks it in info.json', async () => {
    const prefix = `${tmp}/opt_`
    await saveResults(fakeResult({ majority: null, metaResult: 'Metaresult: majority failure' }), prefix, { brave: false, skipbig: false })
    const names = readdirSync(tmp)
    expect(names.filter((n) => n.includes('majority'))).toEqual([])
    expect(names).toContain('opt_best_X.png')
    const info = JSON.parse(readFileSync(`${prefix}info.json`, 'utf8'))
    expect(info.majority).toBeNull()
    expect(info.majority_reached).toBe(false)
    expect(info.meta_result).toBe('Metaresult: majority failure')
  })

  it('writes CHW float32 .npy arrays in model order, or none under skipbig', async () => {
    const prefix = `${tmp}/opt_`
    const r = fakeResult()
    await saveResults(r, prefix, { brave: false, skipbig: false })
    for (const [file, x] of [['x0', r.x0], ['best', r.best!.x], ['last', r.last!.x], ['majority', r.majority!.x]] as const) {
      const npy = decodeNpy(readFileSync(`${prefix}${file}.npy`))
      expect(npy.shape).toEqual([C, H, W])
      expect(Array.from(npy.data)).toEqual(Array.from(hwcToChw(x, H, W, C)))
    }
    // Overwriting with skipbig removes the stale arrays of the previous result.
    const files = await saveResults(r, prefix, { brave: true, skipbig: true })
    expect(files.some((f) => f.endsWith('.npy'))).toBe(false)
    expect(readdirSync(tmp).filter((n) => n.endsWith('.npy'))).toEqual([])
    expect(JSON.parse(readFileSync(`${prefix}info.json`, 'utf8')).array_layout).toBeNull()
  })

  it("writes DVT's info.txt layout", async () => {
    const prefix = `${tmp}/opt_`
    await saveResults(fakeResult({ majority: null }), prefix, { brave: false, skipbig: true })
    const txt = readFileSync(`${prefix}info.txt`, 'utf8')
    /** DVT's '%30s: ' key column. */
    const k = (key: string): string => `${' '.repeat(30 - key.length)}${key}: `
    expect(txt.startsWith('FindParams:\n')).toBe(true)
    expect(txt).toMatch(/\n\n\nFindResults:\n/)
    expect(txt).toContain(`${k('blur_every')}0\n`) // '%30s: %s'
    expect(txt).toContain(`${k('px_abs_benefit_percentile')}0\n`)
    expect(txt).toContain(`${k('push_unit')}(130, 0, 0)\n`)
    expect(txt).toContain(`${k('push_spatial')}(0, 0)\n`)
    expect(txt).toContain(`${k('lr_params')}{'lr': 1.0}\n`)
    expect(txt).toContain(`${k('ii')}[0, 1, ..., 4, 5]\n`)
    expect(txt).toContain(`${k('best_obj')}71.1864\n`)
    expect(txt).toContain(`${k('dist')}[1.9916364387e-12, 3413.05052366, ..., 3956.88723303, 3957.78892399]\n`)
    expect(txt).toContain(`${k('idxmax')}[(330, 0, 0), (533, 0, 0), ..., (130, 0, 0), (130, 0, 0)]\n`)
    expect(txt).toContain(`${k('ismax')}[False, False, ..., True, True]\n`)
    expect(txt).toContain(`${k('majority_obj')}None\n`)
    expect(txt).not.toContain('majority_ii')
    expect(txt).toContain(`${k('meta_result')}Metaresult: majority success\n`)
    const x0 = hwcToChw(fakeResult().x0, H, W, C)
    expect(txt).toContain(`${k('x0')}(3, 4, 5) array [${pyFloat(x0[0], 'float32')}, ${pyFloat(x0[1], 'float32')}, ...]\n`)
    expect(txt).toMatch(/DeepVisStudio:\n[\s\S]*target_label: flamingo\n/)
    expect(txt).toContain('backend: cpu\n')
    // Keys are sorted within each block, as DVT's sorted(__dict__).
    const block = txt.split('\n\n\n')[0].split('\n').slice(1).filter(Boolean).map((l) => l.split(':')[0].trim())
    expect(block).toEqual([...block].sort())
    expect(formatInfoTxt(fakeResult())).toContain(`${k('majority_ii')}2\n`)
  })

  it('fails cleanly when the prefix parent is a file: clear error, nothing written', async () => {
    writeFileSync(`${tmp}/afile`, 'x')
    const err = await catchAsync(saveResults(fakeResult(), `${tmp}/afile/sub/opt_`, { brave: false, skipbig: false }))
    expect(err.code).toBe('BAD_PARAM')
    expect(err.message).toContain(`${tmp}/afile/sub/opt_`)
    expect(readdirSync(tmp)).toEqual(['afile'])
  })

  it('fails cleanly mid-write: no info.json, no partial files, no temp files', async () => {
    const prefix = `${tmp}/opt_`
    // A directory squatting on one final name makes its rename fail after earlier files were renamed.
    mkdirSync(`${prefix}last_X.png`)
    writeFileSync(`${prefix}last_X.png/keep`, 'x')
    const err = await catchAsync(saveResults(fakeResult(), prefix, { brave: false, skipbig: false }))
    expect(err).toBeInstanceOf(DeepVisError)
    expect(err.message).toContain(prefix)
    expect(readdirSync(tmp)).toEqual(['opt_last_X.png'])
  })

  it.skipIf(process.getuid?.() === 0)('fails cleanly in a read-only directory', async () => {
    chmodSync(tmp, 0o555)
    try {
      const err = await catchAsync(saveResults(fakeResult(), `${tmp}/opt_`, { brave: false, skipbig: false }))
      expect(err).toBeInstanceOf(DeepVisError)
      expect(readdirSync(tmp)).toEqual([])
    } finally {
      chmodSync(tmp, 0o755)
    }
  })
})

describe('pyFloat', () => {
  it.each([
    [1.9916364387e-12, 12, '1.9916364387e-12'],
    [3413.05052366, 12, '3413.05052366'],
    [71.186447, 6, '71.1864'],
    [-1.30543, 6, '-1.30543'],
    [100, 'repr', '100.0'],
    [0.0001, 'repr', '0.0001'],
    [0.00001, 'repr', '1e-05'],
    [1e16, 'repr', '1e+16'],
    [123456789012345, 12, '1.23456789012e+14'],
    [Math.fround(0.1), 'float32', '0.1'],
    [Math.fround(17.6405234597), 'float32', '17.640524'],
    [0, 12, '0.0'],
  ] as const)('%s as %s -> %s', (v, style, text) => {
    expect(pyFloat(v, style)).toBe(text)
  })
})
