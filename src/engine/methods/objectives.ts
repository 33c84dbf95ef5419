/**
 * Objectives as composable values (lucid/optvis/objectives.py), one sign convention: MAXIMIZED.
 * An Objective maps the activations of the layers it reads to one value per batch image ([N]).
 * Leaves: `channel(layer, c)` (spatial mean of a channel), `channelMax(layer, c)` (spatial max of a channel,
 * dnnbrain's 'max' activation), `mask(layer, name, weights)` (Σ w·a over a per-unit weight mask, cnnpref's
 * feature mask), `neuron(layer, c, [y, x])` (one position;
 * the centre by default, as lucid), `direction(layer, vec, cossimPow)` (dot product with a direction,
 * optionally times cosine-similarity^pow floored at 0.1, as lucid's `_dot_cossim`, averaged over positions).
 * Algebra (TypeScript has no operator overloading): `sum(a, b, ...)`, `scale(k, a)`, `negate(a)`.
 * `parseObjective(text)` reads the CLI's small expression language:
 *   "inception_4a/output:97 - 0.5*inception_4a/output:12", "conv2:3@4,5", "neuron(logits, 2)",
 *   "direction(conv3, [1, 0, -1, ...], 1)", "'name with spaces':3", "max(conv2:3)", "mask(conv2, 'w.npy')"
 *   (the mask's weights come from `options.masks`, read by the host), with + - * / and parentheses.
 * `diversity(acts)` is lucid's batch diversity penalty (Gram-matrix cosine similarity, L393).
 * Shapes: Objective {description, layers, leaves, value(act) => tf.Tensor1D [N]}; call value inside tf.tidy.
 * Length (~440 lines): the leaves, the algebra and the expression parser are one small language whose
 * parser builds the leaves and whose checks name the parser's syntax; split, each part would import the others.
 */
import * as tf from '@tensorflow/tfjs'
import { check, DeepVisError } from '../../shared/errors.ts'
import type { LayerInfo } from '../model/vis-model.ts'
import { featureMaskObjective } from './cnnpref.ts'

/** Lucid's floor on the cosine similarity in `_dot_cossim`. */
export const COSSIM_FLOOR = 0.1
/** Lucid's epsilon on the magnitudes in `_dot_cossim`. */
const COSSIM_EPS = 1e-4
/** Epsilon of tf.nn.l2_normalize in lucid's diversity. */
const L2_NORMALIZE_EPS = 1e-10

/** One term read from one layer. */
export type Leaf =
  | { kind: 'channel'; layer: string; channel: number; reduce?: 'mean' | 'max' }
  | { kind: 'mask'; layer: string; name: string; weights: MaskWeights }
  | { kind: 'neuron'; layer: string; channel: number; spatial: [number, number] | null }
  | { kind: 'direction'; layer: string; vector: number[]; cossimPow: number }
  | { kind: 'compare'; mode: 'invert' | 'caricature'; layer: string; name: string; target: MaskWeights; cossimPow: number }

/**
 * Per-unit weights of a feature mask (cnnpref's feature_mask × feature_weight): `shape` is the layer's
 * output shape without the batch ([H, W, C] or [C]), or [C] on a conv layer (weights per channel, applied
 * to the channel means). Row-major (HWC), any real values.
 */
export interface MaskWeights {
  data: Float32Array
  shape: number[]
}

export interface Objective {
  /** Human-readable form, e.g. "conv2:3 - 0.5 * conv2:4". */
  readonly description: string
  /** Layers read, in first-use order. */
  readonly layers: string[]
  /** Leaves with their weight in the (linear) objective. */
  readonly leaves: { leaf: Leaf; weight: number }[]
  /** Per-image value [N] from the activations of each layer ([N, H, W, C] or [N, C]). */
  value(act: (layer: string) => tf.Tensor): tf.Tensor1D
}

/** The layer name that means the network input itself (after the model's preprocessing): `invert('@input', 'img.png')`. */
export const INPUT_LAYER = '@input'
/** Lucid's floor on the cosine similarity, and the caricature's default power (our choice: 1, the cosine rewards the same pattern, not just a larger dot product). */
export const CARICATURE_COSSIM_POW = 1
/** Guard of the norms in invert / caricature. */
const COMPARE_EPS = 1e-8

/**
 * invert(layer, image) (Mahendran & Vedaldi 2015): -||a - t||² / ||t||² per image (t: the layer's activations of
 * the image), maximized at a = t. caricature(layer, image[, p]) (OpenAI Microscope, lucid's dot_compare):
 * <a, t> / ||t|| · max(cos(a, t), 0.1)^p, which grows what the layer sees in the image.
 */
function compareValue(l: Extract<Leaf, { kind: 'compare' }>, a: tf.Tensor): tf.Tensor1D {
  const n = a.shape[0]
  const flat = a.reshape([n, -1])
  const t = tf.tensor2d(l.target.data, [1, l.target.data.length])
  const tt = tf.add(tf.sum(tf.square(t)), COMPARE_EPS)
  if (l.mode === 'invert') return tf.neg(tf.div(tf.sum(tf.square(tf.sub(flat, t)), 1), tt)) as tf.Tensor1D
  const dot = tf.sum(tf.mul(flat, t), 1)
  const tn = tf.sqrt(tt)
  const proj = tf.div(dot, tn)
  if (l.cossimPow === 0) return proj as tf.Tensor1D
  const cos = tf.div(proj, tf.add(tf.sqrt(tf.sum(tf.square(flat), 1)), COMPARE_EPS))
  return tf.mul(proj, tf.pow(tf.maximum(cos, COSSIM_FLOOR), l.cossimPow)) as tf.Tensor1D
}

function describeLeaf(l: Leaf): string {
  if (l.kind === 'compare') return `${l.mode}(${JSON.stringify(l.layer)}, ${JSON.stringify(l.name)}${l.mode === 'caricature' ? `, ${l.cossimPow}` : ''})`
  if (l.kind === 'channel') return l.reduce === 'max' ? `max(${l.layer}:${l.channel})` : `${l.layer}:${l.channel}`
  if (l.kind === 'mask') return `mask(${l.layer}, ${JSON.stringify(l.name)})`
  if (l.kind === 'neuron') return l.spatial ? `${l.layer}:${l.channel}@${l.spatial[0]},${l.spatial[1]}` : `neuron(${l.layer}, ${l.channel})`
  return `direction(${l.layer}, [${l.vector.length} values]${l.cossimPow ? `, ${l.cossimPow}` : ''})`
}

function leafValue(l: Leaf, a: tf.Tensor): tf.Tensor1D {
  const n = a.shape[0]
  if (l.kind === 'compare') return compareValue(l, a)
  if (l.kind === 'direction') {
    const c = a.shape[a.shape.length - 1]
    const flat = a.reshape([n, -1, c]) as tf.Tensor3D
    const v = tf.tensor1d(l.vector)
    const dot = tf.sum(tf.mul(flat, v), -1) // [N, P]
    if (l.cossimPow === 0) return tf.mean(dot, -1) as tf.Tensor1D
    const xMag = tf.sqrt(tf.sum(tf.square(flat), -1))
    const vMag = tf.norm(v)
    const cos = tf.div(tf.div(dot, tf.add(xMag, COSSIM_EPS)), tf.add(vMag, COSSIM_EPS))
    return tf.mean(tf.mul(dot, tf.pow(tf.maximum(cos, COSSIM_FLOOR), l.cossimPow)), -1) as tf.Tensor1D
  }
  if (l.kind === 'mask') {
    const w = tf.tensor(l.weights.data, l.weights.shape)
    // [C] weights on a conv layer weigh the channel means; otherwise Σ w·a over the whole output.
    return featureMaskObjective(a.rank === 4 && l.weights.shape.length === 1 ? tf.mean(a, [1, 2]) : a, w)
  }
  if (a.rank === 2) return a.slice([0, l.channel], [n, 1]).reshape([n]) as tf.Tensor1D
  const [, h, w] = a.shape
  if (l.kind === 'channel') {
    const map = a.slice([0, 0, 0, l.channel], [n, h, w, 1])
    return (l.reduce === 'max' ? tf.max(map, [1, 2, 3]) : tf.mean(map, [1, 2, 3])) as tf.Tensor1D
  }
  const [y, x] = l.spatial ?? [Math.floor(h / 2), Math.floor(w / 2)]
  return a.slice([0, y, x, l.channel], [n, 1, 1, 1]).reshape([n]) as tf.Tensor1D
}

function leafObjective(leaf: Leaf): Objective {
  return {
    description: describeLeaf(leaf),
    layers: [leaf.layer],
    leaves: [{ leaf, weight: 1 }],
    value: (act) => leafValue(leaf, act(leaf.layer)),
  }
}

/** Mean activation of channel `c` of `layer` (the unit itself for dense layers). */
export const channel = (layer: string, c: number): Objective => leafObjective({ kind: 'channel', layer, channel: c })
/** Largest activation over the positions of channel `c` of `layer` (dnnbrain's activ 'max'; the unit itself for dense layers). */
export const channelMax = (layer: string, c: number): Objective => leafObjective({ kind: 'channel', layer, channel: c, reduce: 'max' })
/** Σ w·a over `layer`'s output with the per-unit weights `weights` (cnnpref's feature mask); `name` labels it (e.g. the file). */
export const mask = (layer: string, name: string, weights: MaskWeights): Objective => leafObjective({ kind: 'mask', layer, name, weights })
/** Activation of channel `c` at (y, x) of `layer`; null = the centre (floor(H/2), floor(W/2)). */
export const neuron = (layer: string, c: number, spatial: [number, number] | null = null): Objective =>
  leafObjective({ kind: 'neuron', layer, channel: c, spatial })
/** Mean over positions of <act, vector> (times max(cos, 0.1)^cossimPow when cossimPow > 0). */
export const direction = (layer: string, vector: number[], cossimPow = 0): Objective =>
  leafObjective({ kind: 'direction', layer, vector: [...vector], cossimPow })

/** Sum of objectives. */
export function sum(...parts: Objective[]): Objective {
  check(parts.length > 0, () => 'sum() needs at least one objective')
  const layers = [...new Set(parts.flatMap((p) => p.layers))]
  return {
    description: parts.map((p, i) => (i === 0 ? p.description : p.description.startsWith('-') ? `- ${p.description.slice(1)}` : `+ ${p.description}`)).join(' '),
    layers,
    leaves: parts.flatMap((p) => p.leaves),
    value: (act) => parts.map((p) => p.value(act)).reduce((a, b) => tf.add(a, b)) as tf.Tensor1D,
  }
}

/** `k * objective` (k must be a finite number: Lucent's stricter rule). */
export function scale(k: number, o: Objective): Objective {
  check(Number.isFinite(k), () => `an objective can only be multiplied by a finite number; got ${k}`)
  return {
    description: k === -1 ? `-${o.description}` : `${k} * ${o.layers.length && o.leaves.length > 1 ? `(${o.description})` : o.description}`,
    layers: o.layers,
    leaves: o.leaves.map(({ leaf, weight }) => ({ leaf, weight: weight * k })),
    value: (act) => tf.mul(o.value(act), k) as tf.Tensor1D,
  }
}

/** `-objective`. */
export const negate = (o: Objective): Objective => scale(-1, o)

/**
 * Check every leaf against its layer's info (shape without batch); throws BAD_UNIT naming the range.
 * `info(layer)` throws BAD_LAYER for an unknown layer.
 */
export async function validateObjective(o: Objective, info: (layer: string) => Promise<LayerInfo>): Promise<void> {
  for (const { leaf } of o.leaves) {
    const li = await info(leaf.layer)
    const s = li.shape
    check(s.length === 1 || s.length === 3, () => `layer '${li.name}' has output shape [${s.join(', ')}]; only dense [units] and conv [H, W, C] layers can be objectives`, 'BAD_UNIT')
    if (leaf.kind === 'mask') {
      const ws = leaf.weights.shape
      const whole = ws.length === s.length && ws.every((d, i) => d === s[i])
      const perChannel = ws.length === 1 && ws[0] === li.units
      check(whole || perChannel, () => `mask ${JSON.stringify(leaf.name)} has shape [${ws.join(', ')}]; layer '${li.name}' needs [${s.join(', ')}]${s.length === 3 ? ` or [${li.units}] (one weight per channel)` : ''}`, 'BAD_UNIT')
      check(leaf.weights.data.length === ws.reduce((a, b) => a * b, 1), () => `mask ${JSON.stringify(leaf.name)} has ${leaf.weights.data.length} values for shape [${ws.join(', ')}]`)
      check(leaf.weights.data.every(Number.isFinite), () => `mask ${JSON.stringify(leaf.name)} has a non-finite weight`)
      continue
    }
    if (leaf.kind === 'compare') {
      const size = s.reduce((x, y) => x * y, 1)
      check(leaf.target.data.length === size, () => `${leaf.mode}: the reference activations of ${JSON.stringify(leaf.name)} have ${leaf.target.data.length} values; layer '${li.name}' has ${size}`, 'BAD_UNIT')
      continue
    }
    if (leaf.kind === 'direction') {
      check(leaf.vector.length === li.units, () => `direction on '${li.name}' has ${leaf.vector.length} values; the layer has ${li.units} channels`, 'BAD_UNIT')
      check(leaf.vector.every(Number.isFinite), () => `direction on '${li.name}' has a non-finite value`)
      check(Number.isFinite(leaf.cossimPow) && leaf.cossimPow >= 0, () => `direction cossim power must be >= 0; got ${leaf.cossimPow}`)
      continue
    }
    check(Number.isInteger(leaf.channel) && leaf.channel >= 0 && leaf.channel < li.units,
      () => `channel ${leaf.channel} is out of range: layer '${li.name}' has ${li.units} units (0..${li.units - 1})`, 'BAD_UNIT')
    if (leaf.kind === 'neuron' && leaf.spatial) {
      const [y, x] = leaf.spatial
      check(s.length === 3, () => `layer '${li.name}' is not spatial (shape [${s.join(', ')}]): use ${li.name}:${leaf.channel} without @y,x`, 'BAD_UNIT')
      check(y < s[0] && x < s[1], () => `spatial position (${y}, ${x}) is out of range: layer '${li.name}' is ${s[0]}x${s[1]} (y 0..${s[0] - 1}, x 0..${s[1] - 1})`, 'BAD_UNIT')
    }
  }
}

/**
 * Lucid's diversity (objectives.py L393): per image the Gram matrix of the layer's [positions, C]
 * activations, L2-normalized; the sum over ordered pairs i != j of <G_i, G_j>, divided by N.
 * Higher = more similar; the loop maximizes `objective - weight * diversity`.
 */
export function diversity(a: tf.Tensor): tf.Scalar {
  const n = a.shape[0]
  const c = a.shape[a.shape.length - 1]
  const flat = a.reshape([n, -1, c]) as tf.Tensor3D
  const grams = tf.matMul(flat, flat, true, false).reshape([n, c * c])
  const normed = tf.div(grams, tf.sqrt(tf.maximum(tf.sum(tf.square(grams), 1, true), L2_NORMALIZE_EPS)))
  const sims = tf.matMul(normed, normed, false, true) // [N, N]
  const offDiag = tf.sub(tf.sum(sims), tf.sum(tf.mul(sims, tf.eye(n))))
  return tf.div(offDiag, n) as tf.Scalar
}

// ---------------------------------------------------------------------------------------------------------
// The expression language

type Token = { type: 'num'; value: number; pos: number } | { type: 'name'; value: string; pos: number } | { type: 'punct'; value: string; pos: number } | { type: 'end'; pos: number }

const PUNCT = new Set(['(', ')', '[', ']', ',', ':', '@', '+', '-', '*', '/'])
const NAME_START = /[A-Za-z_]/
const NAME_CHAR = /[A-Za-z0-9_/.]/

function parseError(text: string, pos: number, what: string): DeepVisError {
  return new DeepVisError('BAD_PARAM', `bad objective ${JSON.stringify(text)}: ${what} at position ${pos + 1} (e.g. "conv2:3", "conv2:3@4,5", "logits:0 - 0.5*logits:1", "neuron(conv3, 2)", "direction(conv3, [1, 0, ...])")`)
}

function tokenize(text: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i]
    if (/\s/.test(ch)) { i++; continue }
    const num = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text.slice(i))
    if (num) { out.push({ type: 'num', value: Number(num[0]), pos: i }); i += num[0].length; continue }
    if (NAME_START.test(ch)) {
      let j = i + 1
      while (j < text.length && (NAME_CHAR.test(text[j]) || (text[j] === '-' && j + 1 < text.length && NAME_CHAR.test(text[j + 1]) && !/\d/.test(text[j + 1])))) j++
      out.push({ type: 'name', value: text.slice(i, j), pos: i }); i = j; continue
    }
    if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1)
      if (end < 0) throw parseError(text, i, 'unterminated quoted layer name')
      out.push({ type: 'name', value: text.slice(i + 1, end), pos: i }); i = end + 1; continue
    }
    if (PUNCT.has(ch)) { out.push({ type: 'punct', value: ch, pos: i }); i++; continue }
    throw parseError(text, i, `unexpected character '${ch}'`)
  }
  out.push({ type: 'end', pos: text.length })
  return out
}

type Value = number | Objective
const isObj = (v: Value): v is Objective => typeof v !== 'number'

/** Options of {@link parseObjective}. */
export interface ParseOptions {
  /** Weights of the masks named in `mask(layer, name)` (the host reads them, e.g. from .npy files). */
  masks?: Record<string, MaskWeights>
  /** invert / caricature: the activations of each named image at each layer, references[name][layer]. */
  references?: Record<string, Record<string, MaskWeights>>
}

/** The (layer, image name) pairs that `invert(layer, name)` / `caricature(layer, name)` calls refer to. */
export function imageReferences(text: string): { layer: string; name: string }[] {
  const toks = tokenize(text)
  const out = new Map<string, { layer: string; name: string }>()
  for (let i = 0; i + 4 < toks.length; i++) {
    const [f, open, layer, comma, name] = toks.slice(i, i + 5)
    if (f.type === 'name' && (f.value === 'invert' || f.value === 'caricature') && open.type === 'punct' && open.value === '(' && layer.type === 'name' && comma.type === 'punct' && comma.value === ',' && name.type === 'name') {
      out.set(JSON.stringify([layer.value, name.value]), { layer: layer.value, name: name.value })
    }
  }
  return [...out.values()]
}

/** The names `mask(layer, name)` calls in an objective expression refer to (to read them before parsing). */
export function maskNames(text: string): string[] {
  const toks = tokenize(text)
  const out: string[] = []
  for (let i = 0; i + 4 < toks.length; i++) {
    const [f, open, , comma, name] = toks.slice(i, i + 5)
    if (f.type === 'name' && f.value === 'mask' && open.type === 'punct' && open.value === '(' && comma.type === 'punct' && comma.value === ',' && name.type === 'name') out.push(name.value)
  }
  return [...new Set(out)]
}

/** Parse an objective expression (see the module header); throws DeepVisError('BAD_PARAM') with the position. */
export function parseObjective(text: string, options: ParseOptions = {}): Objective {
  check(typeof text === 'string' && text.trim().length > 0, () => 'the objective expression is empty')
  const toks = tokenize(text)
  let k = 0
  const peek = (): Token => toks[k]
  const isP = (v: string): boolean => { const t = peek(); return t.type === 'punct' && t.value === v }
  const expect = (v: string): void => {
    if (!isP(v)) throw parseError(text, peek().pos, `expected '${v}'`)
    k++
  }
  const integer = (what: string): number => {
    const t = peek()
    if (t.type !== 'num' || !Number.isInteger(t.value)) throw parseError(text, t.pos, `expected ${what} (a non-negative integer)`)
    k++
    return t.value
  }
  const signedNumber = (): number => {
    let sign = 1
    while (isP('-') || isP('+')) { if (isP('-')) sign = -sign; k++ }
    const t = peek()
    if (t.type !== 'num') throw parseError(text, t.pos, 'expected a number')
    k++
    return sign * t.value
  }
  const layerName = (): string => {
    const t = peek()
    if (t.type !== 'name') throw parseError(text, t.pos, 'expected a layer name')
    k++
    return t.value
  }

  function expr(): Value {
    let v = term()
    while (isP('+') || isP('-')) {
      const t = peek() as Extract<Token, { type: 'punct' }>; k++
      const rhs = term()
      v = combine(v, t.value === '+' ? rhs : (isObj(rhs) ? negate(rhs) : -rhs), t.pos)
    }
    return v
  }
  function combine(a: Value, b: Value, pos: number): Value {
    if (!isObj(a) && !isObj(b)) return a + b
    if (isObj(a) && isObj(b)) return sum(a, b)
    throw parseError(text, pos, 'a number cannot be added to an objective (it would not change the image)')
  }
  function term(): Value {
    let v = unary()
    while (isP('*') || isP('/')) {
      const t = peek() as Extract<Token, { type: 'punct' }>; k++
      const rhs = unary()
      if (t.value === '/') {
        if (isObj(rhs)) throw parseError(text, t.pos, 'cannot divide by an objective')
        if (rhs === 0) throw parseError(text, t.pos, 'division by zero')
        v = isObj(v) ? scale(1 / rhs, v) : v / rhs
      } else if (isObj(v) && isObj(rhs)) {
        throw parseError(text, t.pos, 'two objectives cannot be multiplied (only a number times an objective)')
      } else if (isObj(v)) v = scale(rhs as number, v)
      else v = isObj(rhs) ? scale(v, rhs) : v * rhs
    }
    return v
  }
  function unary(): Value {
    if (isP('-')) { k++; const v = unary(); return isObj(v) ? negate(v) : -v }
    if (isP('+')) { k++; return unary() }
    return primary()
  }
  function primary(): Value {
    const t = peek()
    if (t.type === 'num') { k++; return t.value }
    if (isP('(')) { k++; const v = expr(); expect(')'); return v }
    if (t.type !== 'name') throw parseError(text, t.pos, t.type === 'end' ? 'unexpected end of expression' : `unexpected '${(t as { value: string }).value}'`)
    k++
    const next = toks[k]
    if (next.type === 'punct' && next.value === '(' && ['neuron', 'channel', 'direction', 'max', 'mask', 'invert', 'caricature'].includes(t.value)) {
      k++
      const v = call(t.value)
      expect(')')
      return v
    }
    if (!(next.type === 'punct' && next.value === ':')) throw parseError(text, next.pos, `expected ':' after layer name '${t.value}' (layer:channel)`)
    k++
    const c = integer('a channel index')
    if (isP('@')) {
      k++
      const y = integer('y')
      expect(',')
      const x = integer('x')
      return neuron(t.value, c, [y, x])
    }
    return channel(t.value, c)
  }
  function call(fn: string): Objective {
    const layer = layerName()
    if (fn === 'max') {
      // max(layer:c) or max(layer, c)
      if (isP(':')) k++
      else expect(',')
      return channelMax(layer, integer('a channel index'))
    }
    expect(',')
    if (fn === 'invert' || fn === 'caricature') {
      const t = peek()
      const name = layerName()
      const target = options.references?.[name]?.[layer]
      if (!target) throw parseError(text, t.pos, `no activations were given for image ${JSON.stringify(name)} at layer '${layer}' (the CLI reads the image file of that name)`)
      let pow = fn === 'caricature' ? CARICATURE_COSSIM_POW : 0
      if (fn === 'caricature' && isP(',')) { k++; pow = signedNumber() }
      if (!(Number.isFinite(pow) && pow >= 0)) throw parseError(text, t.pos, `caricature cossim power must be >= 0; got ${pow}`)
      return leafObjective({ kind: 'compare', mode: fn, layer, name, target, cossimPow: pow })
    }
    if (fn === 'mask') {
      const t = peek()
      const name = layerName()
      const weights = options.masks?.[name]
      if (!weights) throw parseError(text, t.pos, `no weights were given for mask ${JSON.stringify(name)} (the CLI reads a .npy file of that name)`)
      return mask(layer, name, weights)
    }
    if (fn === 'direction') {
      expect('[')
      const vec: number[] = []
      if (!isP(']')) {
        vec.push(signedNumber())
        while (isP(',')) { k++; vec.push(signedNumber()) }
      }
      expect(']')
      let pow = 0
      if (isP(',')) { k++; pow = signedNumber() }
      if (vec.length === 0) throw parseError(text, peek().pos, 'direction needs at least one value')
      return direction(layer, vec, pow)
    }
    const c = integer('a channel index')
    if (fn === 'neuron' && isP(',')) {
      k++
      const y = integer('y')
      expect(',')
      const x = integer('x')
      return neuron(layer, c, [y, x])
    }
    return fn === 'neuron' ? neuron(layer, c) : channel(layer, c)
  }

  const v = expr()
  const end = peek()
  if (end.type !== 'end') throw parseError(text, end.pos, `unexpected '${(end as { value: unknown }).value}'`)
  if (!isObj(v)) throw parseError(text, 0, 'the expression is a plain number, not an objective')
  return v
}
