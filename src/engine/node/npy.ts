/**
 * NPY (numpy's `.npy` file format) for float32 arrays, and the HWC <-> CHW layout change that goes with it.
 * DVT keeps images as (C, H, W) arrays; the engine keeps them HWC, so `.npy` outputs are written CHW.
 * Shapes:
 *   encodeNpy(data: Float32Array, shape: number[]) => Uint8Array        format 1.0, '<f4', C order
 *   decodeNpy(bytes: Uint8Array) => {data: Float32Array, shape: number[]}  '<f4' or '<f8' (-> float32), C order
 *   hwcToChw(x, h, w, c) => Float32Array;  chwToHwc(x, h, w, c) => Float32Array
 * The writer reproduces numpy >= 1.24 byte for byte (`np.save` of a C-contiguous '<f4' array): the header
 * is padded with spaces so that the data starts at a multiple of 64 bytes, with numpy's spare room for
 * growing the first axis in place. Pure functions over bytes: no fs here.
 */
import { DeepVisError } from '../../shared/errors.ts'

/** The six magic bytes every `.npy` file starts with: 0x93 then "NUMPY". */
export const NPY_MAGIC: readonly number[] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
/** numpy aligns the start of the array data on this many bytes (`ARRAY_ALIGN`). */
export const NPY_ARRAY_ALIGN = 64
/** numpy leaves room in the header for the first axis to grow to this many digits (`GROWTH_AXIS_MAX_DIGITS`). */
export const NPY_GROWTH_AXIS_MAX_DIGITS = 21
/** Magic (6) + version (2) + header length (uint16 in format 1.0). */
const PREAMBLE_BYTES_V1 = 10
/** Magic (6) + version (2) + header length (uint32 in formats 2.0 and 3.0). */
const PREAMBLE_BYTES_V2 = 12
/** The largest header a format 1.0 file can describe (uint16 length). */
const MAX_HEADER_BYTES_V1 = 0xffff
const FLOAT32_BYTES = 4
const FLOAT64_BYTES = 8

/** Python's repr of a shape tuple: `()`, `(5,)`, `(2, 3)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`
  return `(${shape.join(', ')})`
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/**
 * Serialize a float32 array as a `.npy` file (format 1.0, little-endian '<f4', C order), byte-identical
 * to `numpy.save` of the same array.
 * @param data the values in C (row-major) order
 * @param shape the array shape; its product must equal `data.length` (`[]` for a scalar)
 * @example encodeNpy(hwcToChw(x, h, w, 3), [3, h, w])
 */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new DeepVisError('INTERNAL', `encodeNpy: shape must be non-negative integers; got ${JSON.stringify(shape)}`)
  }
  const count = elementCount(shape)
  if (count !== data.length) {
    throw new DeepVisError('INTERNAL', `encodeNpy: shape ${shapeRepr(shape)} holds ${count} values but the data has ${data.length}`)
  }
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, NPY_GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length))
  // dict + padding + '\n' must end on a multiple of NPY_ARRAY_ALIGN (numpy's _wrap_header).
  const withNewline = dict.length + 1
  const padding = NPY_ARRAY_ALIGN - ((PREAMBLE_BYTES_V1 + withNewline) % NPY_ARRAY_ALIGN)
  const header = dict + ' '.repeat(padding) + '\n'
  if (header.length > MAX_HEADER_BYTES_V1) {
    throw new DeepVisError('INTERNAL', `encodeNpy: header of ${header.length} bytes is too long for format 1.0`)
  }
  const dataOffset = PREAMBLE_BYTES_V1 + header.length
  const out = new Uint8Array(dataOffset + data.length * FLOAT32_BYTES)
  out.set(NPY_MAGIC, 0)
  out[6] = 1 // major version
  out[7] = 0 // minor version
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint16(8, header.length, true)
  for (let i = 0; i < header.length; i++) out[PREAMBLE_BYTES_V1 + i] = header.charCodeAt(i)
  for (let i = 0; i < data.length; i++) view.setFloat32(dataOffset + i * FLOAT32_BYTES, data[i], true)
  return out
}

function npyError(message: string): DeepVisError {
  return new DeepVisError('BAD_PARAM', `not a readable .npy file: ${message}`)
}

/** Value of one key of the header dict, as the literal text that follows `'key':`. */
function headerField(header: string, key: string, pattern: RegExp): RegExpMatchArray {
  const re = new RegExp(`['"]${key}['"]\\s*:\\s*${pattern.source}`)
  const m = header.match(re)
  if (!m) throw npyError(`header has no readable '${key}' entry: ${header.trim()}`)
  return m
}

/**
 * Parse a `.npy` file holding little-endian float32 ('<f4') or float64 ('<f8', converted to float32) values
 * in C order (formats 1.0, 2.0 and 3.0). Anything else (Fortran order, big-endian, another dtype, a
 * truncated file) throws DeepVisError('BAD_PARAM') saying what was found.
 * @example const { data, shape } = decodeNpy(await readFile('mean.npy')) // shape [3, 227, 227]
 */
export function decodeNpy(bytes: Uint8Array): { data: Float32Array; shape: number[] } {
  if (bytes.length < PREAMBLE_BYTES_V1 || !NPY_MAGIC.every((b, i) => bytes[i] === b)) {
    throw npyError('it does not start with the NPY magic bytes \\x93NUMPY')
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const major = bytes[6]
  let headerStart: number
  let headerLength: number
  if (major === 1) {
    headerStart = PREAMBLE_BYTES_V1
    headerLength = view.getUint16(8, true)
  } else if (major === 2 || major === 3) {
    if (bytes.length < PREAMBLE_BYTES_V2) throw npyError('truncated header')
    headerStart = PREAMBLE_BYTES_V2
    headerLength = view.getUint32(8, true)
  } else {
    throw npyError(`unsupported format version ${major}.${bytes[7]} (1.0, 2.0 and 3.0 are supported)`)
  }
  const dataOffset = headerStart + headerLength
  if (dataOffset > bytes.length) throw npyError('truncated header')
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataOffset))

  const descr = headerField(header, 'descr', /['"]([^'"]*)['"]/)[1]
  const fortran = headerField(header, 'fortran_order', /(True|False)/)[1]
  const shapeText = headerField(header, 'shape', /\(([^)]*)\)/)[1]
  if (fortran === 'True') {
    throw npyError('the array is in Fortran order (fortran_order: True); save it with np.ascontiguousarray first')
  }
  let itemBytes: number
  if (descr === '<f4') itemBytes = FLOAT32_BYTES
  else if (descr === '<f8') itemBytes = FLOAT64_BYTES
  else if (descr.startsWith('>')) {
    throw npyError(`the array is big-endian ('${descr}'); only little-endian '<f4' and '<f8' are supported`)
  } else {
    throw npyError(`dtype '${descr}' is not supported; only float32 '<f4' and float64 '<f8' are`)
  }
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (!dims.every((s) => /^\d+$/.test(s))) throw npyError(`bad shape (${shapeText})`)
  const shape = dims.map(Number)
  const count = elementCount(shape)
  const dataBytes = bytes.length - dataOffset
  if (dataBytes !== count * itemBytes) {
    throw npyError(`shape ${shapeRepr(shape)} of '${descr}' needs ${count * itemBytes} data bytes but the file has ${dataBytes}`)
  }
  const data = new Float32Array(count)
  if (itemBytes === FLOAT32_BYTES) {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataOffset + i * FLOAT32_BYTES, true)
  } else {
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(dataOffset + i * FLOAT64_BYTES, true)
  }
  return { data, shape }
}

/**
 * Reorder an (H, W, C) array (the engine's image layout) to (C, H, W) (DVT's / Caffe's layout).
 * @example hwcToChw(x, 227, 227, 3) // channel 0 plane first
 */
export function hwcToChw(x: Float32Array, h: number, w: number, c: number): Float32Array {
  checkLayout(x, h, w, c)
  const out = new Float32Array(x.length)
  const plane = h * w
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < c; k++) out[k * plane + p] = x[p * c + k]
  }
  return out
}

/**
 * Reorder a (C, H, W) array to (H, W, C); the inverse of `hwcToChw` (same argument order: h, w, c).
 * @example chwToHwc(decodeNpy(bytes).data, 227, 227, 3)
 */
export function chwToHwc(x: Float32Array, h: number, w: number, c: number): Float32Array {
  checkLayout(x, h, w, c)
  const out = new Float32Array(x.length)
  const plane = h * w
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < c; k++) out[p * c + k] = x[k * plane + p]
  }
  return out
}

function checkLayout(x: Float32Array, h: number, w: number, c: number): void {
  if (x.length !== h * w * c) {
    throw new DeepVisError('INTERNAL', `layout change: ${h}x${w}x${c} needs ${h * w * c} values, got ${x.length}`)
  }
}
