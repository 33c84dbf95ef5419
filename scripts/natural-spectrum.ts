/**
 * Computes MACO's natural-image magnitude spectrum offline (its sources download an ImageNet one at run time;
 * we work offline) and writes resources/maco/natural-spectrum.npy (float32 [3, S, S/2 + 1]) and
 * natural-spectrum.json (the files, tiles, licences and the fitted radial slope).
 *
 * Input: colour photographs from Debian's python3-skimage package (skimage/data): astronaut.png (NASA, public
 * domain), chelsea.png (CC0, Stefan van der Walt), coffee.png (CC0, Rachel Michetti), rocket.jpg (SpaceX, public
 * domain) — licences as stated in the package's skimage/data/_fetchers.py; the package's
 * /usr/share/doc/python3-skimage/copyright covers the rest of the package (BSD-3-Clause).
 *   apt-get download python3-skimage && dpkg -x python3-skimage_*.deb /tmp/sk
 *   npx tsx scripts/natural-spectrum.ts /tmp/sk/usr/lib/python3/dist-packages/skimage/data
 *
 * Method: each photo at scales 1, 1/2, 1/4 (sharp, Lanczos) is cut into non-overlapping S x S tiles; each tile
 * (RGB in [0, 1]) is taken to MACO's decorrelated colour space (x_rgb times the inverse of the colour matrix
 * the renderer applies, methods/maco.ts), its per-channel mean removed, a separable Hann window applied, and
 * the magnitude |DFT| of each channel's half spectrum (S x (S/2 + 1)) averaged over every tile. The result is
 * divided by its largest non-DC value. The slope is the least-squares fit of log(radial mean magnitude) on
 * log(frequency) over 2/S .. 0.4 cycles per pixel, per channel (natural images: about -1).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { encodeNpy } from '../src/engine/node/npy.ts'
import { colorCorrelationNormalized } from '../src/engine/methods/image-param.ts'
import { radialSlope } from '../src/engine/methods/spectrum-slope.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const S = 128
const WF = S / 2 + 1
const SCALES = [1, 0.5, 0.25]
const PHOTOS: { file: string; licence: string }[] = [
  { file: 'astronaut.png', licence: 'public domain (NASA)' },
  { file: 'chelsea.png', licence: 'CC0 (Stefan van der Walt)' },
  { file: 'coffee.png', licence: 'CC0 (Rachel Michetti)' },
  { file: 'rocket.jpg', licence: 'public domain (SpaceX)' },
]

const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: npx tsx scripts/natural-spectrum.ts SKIMAGE_DATA_DIR (see the header)\n')
  process.exit(2)
}

/** Inverse of the 3x3 matrix A (row-major). */
function inverse3(a: number[][]): number[][] {
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = a
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
  return [
    [(b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det, (a1 * b2 - a2 * b1) / det],
    [(b2 * c0 - b0 * c2) / det, (a0 * c2 - a2 * c0) / det, (a2 * b0 - a0 * b2) / det],
    [(b0 * c1 - b1 * c0) / det, (a1 * c0 - a0 * c1) / det, (a0 * b1 - a1 * b0) / det],
  ]
}

// The renderer computes rgb = x_dec @ colour with colour = C^T (C = colorCorrelationNormalized()); so x_dec = rgb @ inv(C^T).
const c = colorCorrelationNormalized()
const colourT = [0, 1, 2].map((i) => [0, 1, 2].map((j) => c[j][i]))
const inv = inverse3(colourT)
const hann = Float64Array.from({ length: S }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / S))
const cos = Float64Array.from({ length: S * S }, (_, k) => Math.cos((2 * Math.PI * ((Math.floor(k / S) * (k % S)) % S)) / S))
const sin = Float64Array.from({ length: S * S }, (_, k) => Math.sin((2 * Math.PI * ((Math.floor(k / S) * (k % S)) % S)) / S))

/** |DFT| half spectrum [S, WF] of an S x S real tile. */
function magnitude(tile: Float64Array): Float64Array {
  // Along x (half spectrum): R[y, v], I[y, v]; then along y.
  const r = new Float64Array(S * WF)
  const im = new Float64Array(S * WF)
  for (let y = 0; y < S; y++) {
    for (let v = 0; v < WF; v++) {
      let sr = 0
      let si = 0
      for (let x = 0; x < S; x++) { const t = tile[y * S + x]; sr += t * cos[v * S + x]; si -= t * sin[v * S + x] }
      r[y * WF + v] = sr
      im[y * WF + v] = si
    }
  }
  const out = new Float64Array(S * WF)
  for (let u = 0; u < S; u++) {
    for (let v = 0; v < WF; v++) {
      let sr = 0
      let si = 0
      for (let y = 0; y < S; y++) {
        const cr = cos[u * S + y]
        const ci = -sin[u * S + y]
        const a = r[y * WF + v]
        const b = im[y * WF + v]
        sr += a * cr - b * ci
        si += a * ci + b * cr
      }
      out[u * WF + v] = Math.hypot(sr, si)
    }
  }
  return out
}

const sum = new Float64Array(3 * S * WF)
let tiles = 0
const used: { file: string; licence: string; width: number; height: number; tiles: number }[] = []
for (const photo of PHOTOS) {
  const bytes = readFileSync(path.join(dir, photo.file))
  const meta = await sharp(bytes).metadata()
  let count = 0
  for (const scale of SCALES) {
    const w = Math.round(meta.width! * scale)
    const h = Math.round(meta.height! * scale)
    const { data } = await sharp(bytes).removeAlpha().toColourspace('srgb').resize(w, h, { kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true })
    for (let ty = 0; ty + S <= h; ty += S) {
      for (let tx = 0; tx + S <= w; tx += S) {
        const dec = [new Float64Array(S * S), new Float64Array(S * S), new Float64Array(S * S)]
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const o = ((ty + y) * w + tx + x) * 3
            const rgb = [data[o] / 255, data[o + 1] / 255, data[o + 2] / 255]
            for (let k = 0; k < 3; k++) dec[k][y * S + x] = rgb[0] * inv[0][k] + rgb[1] * inv[1][k] + rgb[2] * inv[2][k]
          }
        }
        for (let k = 0; k < 3; k++) {
          const mean = dec[k].reduce((a, b) => a + b, 0) / (S * S)
          const t = Float64Array.from(dec[k], (v, i) => (v - mean) * hann[Math.floor(i / S)] * hann[i % S])
          const m = magnitude(t)
          for (let i = 0; i < S * WF; i++) sum[k * S * WF + i] += m[i]
        }
        tiles++
        count++
      }
    }
  }
  used.push({ ...photo, width: meta.width!, height: meta.height!, tiles: count })
  process.stderr.write(`${photo.file}: ${meta.width}x${meta.height}, ${count} tiles\n`)
}
let peak = 0
for (let k = 0; k < 3; k++) for (let i = 1; i < S * WF; i++) peak = Math.max(peak, sum[k * S * WF + i])
const spectrum = Float32Array.from(sum, (v) => v / peak)
const slopes = [0, 1, 2].map((k) => radialSlope(spectrum.subarray(k * S * WF, (k + 1) * S * WF), S))
const outDir = path.join(ROOT, 'resources', 'maco')
mkdirSync(outDir, { recursive: true })
writeFileSync(path.join(outDir, 'natural-spectrum.npy'), encodeNpy(spectrum, [3, S, WF]))
writeFileSync(path.join(outDir, 'natural-spectrum.json'), JSON.stringify({
  format: 'deepvis-natural-spectrum@1',
  shape: [3, S, WF],
  layout: 'float32 [channel, u (fftfreq order), v = 0..S/2]: mean |DFT| of Hann-windowed S x S tiles in MACO\'s decorrelated colour space, divided by the largest non-DC value',
  source: 'Debian package python3-skimage (skimage/data), licences from skimage/data/_fetchers.py; package copyright /usr/share/doc/python3-skimage/copyright (BSD-3-Clause)',
  photos: used,
  scales: SCALES,
  tiles,
  radial_slope: slopes.map((s) => Math.round(s * 1000) / 1000),
  slope_fit: 'least squares of log(radial mean magnitude) on log(cycles per pixel), 2/S .. 0.4',
  command: 'npx tsx scripts/natural-spectrum.ts SKIMAGE_DATA_DIR',
}, null, 2) + '\n')
process.stdout.write(`${tiles} tiles from ${used.length} photos; radial slope per channel ${slopes.map((s) => s.toFixed(3)).join(', ')}\n`)
