/**
 * The preset-family gallery (docs/gallery.md): for a few units of a model, run one preset of each
 * method family through the CLI (`deepvis optimize`, so exactly what a user gets) and collect the best
 * image, the final and best objective, and the median ms per iteration, then write a markdown page
 * with the images side by side. Run on demand: `npx tsx scripts/gallery.ts [options]`.
 *   --model DIR        (default ../shared/models/googlenet_bvlc)
 *   --units L:C,...    (default the flamingo logit; inception_4a/output:97 and conv2/relu_3x3:150 before their ReLU, which are 0 with a zero gradient at DVT's x0)
 *   --presets a,b      (default yosinski-3,lucid,dnnbrain,cnnpref-gd,normstep,seed004)
 *   --iters N          max iterations per run (default 200; each preset's own count when 0)
 *   --out DIR          images + page (default docs/gallery); the page is <out>.md beside it
 *   --backend B        (default auto)
 *   --image FILE       the seed image of the accentuation presets (required for them)
 * Each cell shows the best image and, below it, its transparency map (last_alpha.png) when the method writes one.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = path.resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.resolve(ROOT, '../shared/models/googlenet_bvlc') },
    units: { type: 'string', default: 'loss3/classifier:130,inception_4a/relu_1x1/pre_relu:97,conv2/relu_3x3/pre_relu:150' },
    presets: { type: 'string', default: 'yosinski-3,lucid,dnnbrain,cnnpref-gd,normstep,seed004' },
    iters: { type: 'string', default: '200' },
    out: { type: 'string', default: path.join(ROOT, 'docs', 'gallery') },
    backend: { type: 'string', default: 'auto' },
    image: { type: 'string' },
  },
})
const iters = Number(values.iters)
const outDir = path.resolve(values.out!)
mkdirSync(outDir, { recursive: true })
const work = path.join(os.tmpdir(), `deepvis-gallery-${process.pid}`)
rmSync(work, { recursive: true, force: true })

interface Cell { preset: string; ok: boolean; image?: string; alpha?: string; msPerIter?: number; bestObj?: number; iterations?: number; error?: string; rank?: string; slope?: number }
const rows: { unit: string; cells: Cell[] }[] = []
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '_')
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

for (const unit of values.units!.split(',')) {
  const i = unit.lastIndexOf(':')
  const layer = unit.slice(0, i)
  const channel = unit.slice(i + 1)
  const cells: Cell[] = []
  for (const preset of values.presets!.split(',')) {
    const dir = path.join(work, safe(unit), preset)
    mkdirSync(dir, { recursive: true })
    const args = ['deepvis', 'optimize', '--model', values.model!, '--backend', values.backend!, '--push-layer', layer,
      '--push-channel', channel, '--preset', preset, '--output-prefix', dir + path.sep, '--skipbig', '--brave']
    if (iters > 0) args.push('--max-iter', String(iters))
    if (preset.startsWith('accentuation') && values.image) args.push('--image', path.resolve(values.image))
    const t0 = Date.now()
    try {
      execFileSync('npx', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 3_600_000 })
      // The CLI names its files <prefix><layer>_<channel>_<seed>_*: find them by suffix.
      const files = readdirSync(dir)
      const find = (suffix: string): string => path.join(dir, files.find((f) => f.endsWith(suffix)) ?? suffix)
      const info = JSON.parse(readFileSync(find('info.json'), 'utf8'))
      const png = find('best_Xpm.png')
      const name = `${safe(unit)}__${preset}.png`
      if (existsSync(png)) copyFileSync(png, path.join(outDir, name))
      const alphaPng = find('last_alpha.png')
      const alpha = existsSync(alphaPng) ? `${safe(unit)}__${preset}_alpha.png` : undefined
      if (alpha) copyFileSync(alphaPng, path.join(outDir, alpha))
      const q = info.quality ?? {}
      cells.push({
        preset, ok: true, image: name, alpha, msPerIter: median((info.series?.wall_ms ?? []).slice(2)), bestObj: info.results?.best?.obj ?? info.best?.obj,
        iterations: info.series?.obj?.length, rank: q.rank !== undefined ? `${q.rank}/${q.of}` : undefined, slope: q.spectrum_slope,
      })
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string }
      cells.push({ preset, ok: false, error: (err.stderr?.toString() || err.message).trim().split('\n').pop()?.slice(0, 200) })
    }
    const c = cells[cells.length - 1]
    console.log(JSON.stringify({ unit, ...c, wall_s: (Date.now() - t0) / 1000 }))
  }
  rows.push({ unit, cells })
}

const fmt = (v: number | undefined, d = 1): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—')
const presets = values.presets!.split(',')
let md = `| unit | ${presets.join(' | ')} |\n|---|${presets.map(() => '---').join('|')}|\n`
for (const r of rows) {
  md += `| \`${r.unit}\` | ${r.cells.map((c) => (c.ok ? `![${r.unit} ${c.preset}](${path.basename(outDir)}/${c.image})` : `failed: ${c.error}`)).join(' | ')} |\n`
  if (r.cells.some((c) => c.alpha)) md += `| alpha | ${r.cells.map((c) => (c.alpha ? `![${r.unit} ${c.preset} alpha](${path.basename(outDir)}/${c.alpha})` : '')).join(' | ')} |\n`
  md += `| | ${r.cells.map((c) => (c.ok ? `${fmt(c.msPerIter, 0)} ms/it · ${c.iterations} it · best ${fmt(c.bestObj, 2)}${c.rank ? ` · rank ${c.rank}` : ''}${c.slope !== undefined ? ` · slope ${fmt(c.slope, 2)}` : ''}` : '')).join(' | ')} |\n`
}
writeFileSync(path.join(outDir, 'table.md'), md)
console.log(md)
rmSync(work, { recursive: true, force: true })
