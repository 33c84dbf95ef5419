/**
 * NPY codec: round trips, numpy's exact header bytes and alignment, files written by numpy itself,
 * refusal of what we cannot read, and the HWC <-> CHW layout change.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import { chwToHwc, decodeNpy, encodeNpy, hwcToChw, NPY_ARRAY_ALIGN } from '../../src/engine/node/npy.ts'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIXTURES, name)))

function dataOffset(bytes: Uint8Array): number {
  return 10 + (bytes[8] | (bytes[9] << 8))
}

function headerText(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(10, dataOffset(bytes))).toString('latin1')
}

/** A header with another descr / order, built like numpy's, for the refusal tests. */
function withHeader(dict: string, payloadBytes: number): Uint8Array {
  const pad = NPY_ARRAY_ALIGN - ((10 + dict.length + 1) % NPY_ARRAY_ALIGN)
  const header = dict + ' '.repeat(pad) + '\n'
  const out = new Uint8Array(10 + header.length + payloadBytes)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0)
  out[8] = header.length & 0xff
  out[9] = header.length >> 8
  out.set(Buffer.from(header, 'latin1'), 10)
  return out
}

describe('encodeNpy / decodeNpy', () => {
  it.each([
    [[7]],
    [[5]],
    [[2, 3]],
    [[3, 4, 5]],
    [[1, 1, 1, 2]],
    [[0]],
    [[]],
  ])('round-trips shape %j exactly', (shape) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const data = Float32Array.from({ length: n }, (_, i) => (i - 3.25) * 1.5e-3 + (i % 2 ? -1e30 : 7))
    const back = decodeNpy(encodeNpy(data, shape))
    expect(back.shape).toEqual(shape)
    expect(Array.from(back.data)).toEqual(Array.from(data))
  })

  it('writes magic \\x93NUMPY, version 1.0, and data at a multiple of 64 bytes', () => {
    for (const shape of [[5], [2, 3], [3, 227, 227], [12345678901, 0]]) {
      const n = shape.reduce((a, b) => a * b, 1)
      const bytes = encodeNpy(new Float32Array(n), shape)
      expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
      expect(dataOffset(bytes) % 64).toBe(0)
      expect(bytes.length).toBe(dataOffset(bytes) + 4 * n)
      expect(bytes[dataOffset(bytes) - 1]).toBe(0x0a) // header ends with '\n'
      expect(headerText(bytes)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(/)
    }
  })

  it('stores little-endian float32 values', () => {
    const bytes = encodeNpy(Float32Array.of(1, -2), [2])
    const off = dataOffset(bytes)
    expect(Array.from(bytes.subarray(off, off + 8))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
  })

  it('is byte-identical to numpy.save for <f4 arrays', () => {
    const f4 = fixture('numpy-f4-2x3.npy')
    const decoded = decodeNpy(f4)
    expect(Buffer.from(encodeNpy(decoded.data, decoded.shape)).equals(Buffer.from(f4))).toBe(true)
    const oneD = fixture('numpy-f4-1d-5.npy')
    expect(Buffer.from(encodeNpy(Float32Array.of(0, 1.5, 3, 4.5, 6), [5])).equals(Buffer.from(oneD))).toBe(true)
  })

  it('reads a <f4 file written by numpy', () => {
    const { data, shape } = decodeNpy(fixture('numpy-f4-2x3.npy'))
    expect(shape).toEqual([2, 3])
    expect(Array.from(data)).toEqual([0.5, -1.25, 3, Math.fround(1e-7), -0, 65504])
    expect(Object.is(data[4], -0)).toBe(true)
  })

  it('reads a <f8 file written by numpy, converting to float32', () => {
    const { data, shape } = decodeNpy(fixture('numpy-f8-2x2x2.npy'))
    expect(shape).toEqual([2, 2, 2])
    const expected = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Math.fround((i - 3.5) / 3))
    expect(Array.from(data)).toEqual(expected)
  })

  it('reads a 1-D file written by numpy', () => {
    const { data, shape } = decodeNpy(fixture('numpy-f4-1d-5.npy'))
    expect(shape).toEqual([5])
    expect(Array.from(data)).toEqual([0, 1.5, 3, 4.5, 6])
  })

  it('reads from a Uint8Array view at an unaligned offset', () => {
    const inner = encodeNpy(Float32Array.of(1, 2, 3), [3])
    const outer = new Uint8Array(inner.length + 3)
    outer.set(inner, 3)
    expect(Array.from(decodeNpy(outer.subarray(3)).data)).toEqual([1, 2, 3])
  })

  const refusals: [string, Uint8Array, RegExp][] = [
    ['Fortran order', withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), /Fortran order/],
    ['big-endian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), /big-endian/],
    ['int32', withHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24), /dtype '<i4' is not supported/],
    ['truncated data', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), /needs 24 data bytes but the file has 20/],
    ['not npy', Uint8Array.from(Buffer.from('PK\x03\x04 this is a zip file')), /magic/],
  ]
  it.each(refusals)('refuses %s with a clear DeepVisError', (_what, bytes, message) => {
    let caught: unknown
    try {
      decodeNpy(bytes)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(DeepVisError)
    expect((caught as DeepVisError).message).toMatch(message)
  })

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values but the data has 5/)
  })
})

describe('hwcToChw / chwToHwc', () => {
  it('puts each channel plane first and back', () => {
    // 2x2 pixels, 3 channels: value = 100*c + 10*y + x
    const h = 2, w = 2, c = 3
    const hwc = new Float32Array(h * w * c)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) hwc[(y * w + x) * c + k] = 100 * k + 10 * y + x
    const chw = hwcToChw(hwc, h, w, c)
    expect(Array.from(chw)).toEqual([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211])
    expect(Array.from(chwToHwc(chw, h, w, c))).toEqual(Array.from(hwc))
  })

  it('rejects a length that does not match h*w*c', () => {
    expect(() => hwcToChw(new Float32Array(11), 2, 2, 3)).toThrow(/needs 12 values, got 11/)
  })
})
