/**
 * Parsers for DVT's Python-literal flag values ("(6,6)", "None", "'mean.npy'", "(2,1,0)").
 * All are parsed as data, never evaluated. Each throws DeepVisError('BAD_PARAM') naming the flag.
 * Shape: (flag, text) => value
 */
import { DeepVisError } from '../shared/errors.ts'
import type { ChannelOrder } from '../engine/node/tf-free.ts'

function bad(flag: string, text: string, expected: string): DeepVisError {
  return new DeepVisError('BAD_PARAM', `${flag} ${JSON.stringify(text)} is not valid: expected ${expected}`)
}

/** A finite number. */
export function parseNumber(flag: string, text: string): number {
  const v = Number(text)
  if (text.trim() === '' || !Number.isFinite(v)) throw bad(flag, text, 'a number')
  return v
}

/** A non-negative integer. */
export function parseInteger(flag: string, text: string): number {
  const v = Number(text)
  if (text.trim() === '' || !Number.isInteger(v) || v < 0) throw bad(flag, text, 'a non-negative integer')
  return v
}

/** "None" (also "null", "") -> null. */
function isNone(text: string): boolean {
  return /^\s*(none|null)?\s*$/i.test(text)
}

/** A tuple of numbers: "(6,6)", "6,6", "[6, 6]". */
export function parseTuple(flag: string, text: string, length?: number): number[] {
  const m = /^\s*[([]?\s*([^()[\]]*?)\s*,?\s*[)\]]?\s*$/.exec(text)
  const parts = m ? m[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0) : []
  const nums = parts.map(Number)
  if (!m || nums.length === 0 || nums.some((v) => !Number.isFinite(v)) || (length !== undefined && nums.length !== length)) {
    throw bad(flag, text, length ? `a tuple of ${length} numbers such as "(${new Array(length).fill(0).join(',')})"` : 'a tuple of numbers such as "(104,117,123)"')
  }
  return nums
}

/** --push-spatial: "None" -> null (the default: centre of a conv map), "(y,x)" -> [y, x]. */
export function parseSpatial(text: string): [number, number] | null {
  if (isNone(text)) return null
  const [y, x] = parseTuple('--push-spatial', text, 2)
  if (!Number.isInteger(y) || !Number.isInteger(x) || y < 0 || x < 0) throw bad('--push-spatial', text, 'two non-negative integers "(y,x)" or None')
  return [y, x]
}

/** --data-size "(227,227)" -> [227, 227]. */
export function parseSize(text: string): [number, number] {
  const [h, w] = parseTuple('--data-size', text, 2)
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) throw bad('--data-size', text, 'two positive integers "(H,W)"')
  return [h, w]
}

/**
 * --mean: "None" -> null (no mean: x is the raw pixel), "(104,117,123)" -> per-channel tuple,
 * "'mean.npy'" or mean.npy -> path of a mean image.
 */
export function parseMean(text: string): number[] | string | null {
  if (isNone(text)) return null
  const t = text.trim()
  if (/^[([]/.test(t) || /^[-\d.\s,]+$/.test(t)) return parseTuple('--mean', t)
  const quoted = /^(['"])(.*)\1$/.exec(t)
  return quoted ? quoted[2] : t
}

/** --channel-swap-to-rgb: "(2,1,0)" -> BGR model, "(0,1,2)" -> RGB model. */
export function parseChannelSwap(text: string): ChannelOrder {
  const p = parseTuple('--channel-swap-to-rgb', text, 3).join(',')
  if (p === '2,1,0') return 'BGR'
  if (p === '0,1,2') return 'RGB'
  throw bad('--channel-swap-to-rgb', text, '"(2,1,0)" (network trained on BGR) or "(0,1,2)" (RGB)')
}

/** A scalar or a per-channel tuple. */
export function parseScalarOrTuple(flag: string, text: string): number | number[] {
  const t = text.trim()
  return /^[([]/.test(t) || t.includes(',') ? parseTuple(flag, t) : parseNumber(flag, t)
}
