/**
 * ONNX protobuf -> plain data, through the `onnx-proto` package (protobufjs code generated from
 * ONNX's own onnx.proto): no hand-written wire parsing here, only the mapping of TensorProto and
 * AttributeProto to JS values and the checks a user needs to hear about (corrupt file, missing
 * external data, opset out of range, graph-valued attributes).
 * Integers (int64 in ONNX) become int32 (clamped: INT64_MAX in a Slice's `ends` means "to the end"),
 * doubles and float16 become float32, small integer types int32, bool stays bool.
 * Shape: `parseOnnx(bytes, {readExternal}) => OnnxModelDef`; `decodeTensor(proto) => HostTensor`.
 */
import onnxProto from 'onnx-proto'
import { DeepVisError } from '../../../shared/errors.ts'

const { onnx } = onnxProto
type Long = { toNumber(): number } | number

export type HostDtype = 'float32' | 'int32' | 'bool'

/** A tensor in host memory, as decoded from the file. */
export interface HostTensor {
  dtype: HostDtype
  shape: number[]
  data: Float32Array | Int32Array | Uint8Array
}

export type AttrValue = number | string | number[] | string[] | HostTensor | HostTensor[]

export interface NodeDef {
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  attrs: Record<string, AttrValue>
}

export interface ValueInfo {
  name: string
  elemType: number
  /** Dimensions; null where symbolic or unknown. null for the whole shape when unknown. */
  shape: (number | null)[] | null
}

export interface OnnxModelDef {
  irVersion: number
  /** Version of the default ("" / "ai.onnx") opset. */
  opset: number
  producer: string
  metadata: Record<string, string>
  nodes: NodeDef[]
  initializers: Map<string, HostTensor>
  /** Graph inputs that are not initializers. */
  inputs: ValueInfo[]
  outputs: ValueInfo[]
}

/** Opsets of the default domain that this importer understands. */
export const MIN_OPSET = 7
export const MAX_OPSET = 21

export interface ParseOptions {
  /** Read an external-data file named in the model (path relative to the model's folder). */
  readExternal?: (location: string) => Uint8Array
  /** File name for messages. */
  fileName?: string
}

function num(v: Long | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'number' ? v : v.toNumber()
}

const INT32_MAX = 2147483647
const INT32_MIN = -2147483648
function toInt32(v: number): number {
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * 2 ** -14 * (f / 1024)
  if (e === 31) return f ? NaN : s * Infinity
  return s * 2 ** (e - 15) * (1 + f / 1024)
}

const DT = onnx.TensorProto.DataType

/** Decode one TensorProto (raw_data, typed fields or external data) into a HostTensor. */
export function decodeTensor(t: onnxProto.onnx.ITensorProto, opts: ParseOptions = {}): HostTensor {
  const shape = (t.dims ?? []).map((d) => num(d as Long))
  const n = shape.reduce((a, b) => a * b, 1)
  const name = t.name || '(unnamed)'
  let raw: Uint8Array | null = t.rawData && t.rawData.length ? t.rawData : null
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']))
    const location = entries.location
    if (!location) throw new DeepVisError('BAD_MODEL', `tensor '${name}' has external data without a location`)
    if (!opts.readExternal) throw new DeepVisError('BAD_MODEL', `tensor '${name}' keeps its data in external file '${location}', which cannot be read here`)
    const file = opts.readExternal(location)
    const offset = Number(entries.offset ?? 0)
    const length = entries.length !== undefined ? Number(entries.length) : file.length - offset
    if (offset + length > file.length) {
      throw new DeepVisError('BAD_MODEL', `external data file '${location}' of tensor '${name}' is too short: ${file.length} bytes, need ${offset + length}`)
    }
    raw = file.subarray(offset, offset + length)
  }
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null
  const need = (bytes: number): void => {
    if (view && view.byteLength < n * bytes) {
      throw new DeepVisError('BAD_MODEL', `tensor '${name}' holds ${view.byteLength} bytes of data; its shape [${shape.join(', ')}] needs ${n * bytes}`)
    }
  }
  const dt = t.dataType ?? 0
  switch (dt) {
    case DT.FLOAT: {
      const out = new Float32Array(n)
      if (view) { need(4); for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true) } else out.set((t.floatData ?? []).slice(0, n))
      return { dtype: 'float32', shape, data: out }
    }
    case DT.DOUBLE: {
      const out = new Float32Array(n)
      if (view) { need(8); for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true) } else out.set((t.doubleData ?? []).slice(0, n))
      return { dtype: 'float32', shape, data: out }
    }
    case DT.FLOAT16: {
      const out = new Float32Array(n)
      if (view) { need(2); for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true)) } else {
        const src = t.int32Data ?? []
        for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i] ?? 0)
      }
      return { dtype: 'float32', shape, data: out }
    }
    case DT.INT64: case DT.UINT64: {
      const out = new Int32Array(n)
      if (view) {
        need(8)
        for (let i = 0; i < n; i++) out[i] = toInt32(Number(view.getBigInt64(i * 8, true)))
      } else {
        const src = t.int64Data ?? []
        for (let i = 0; i < n; i++) out[i] = toInt32(num(src[i] as Long))
      }
      return { dtype: 'int32', shape, data: out }
    }
    case DT.INT32: case DT.INT16: case DT.INT8: case DT.UINT8: case DT.UINT16: case DT.UINT32: case DT.BOOL: {
      const bytes = dt === DT.INT32 || dt === DT.UINT32 ? 4 : dt === DT.INT16 || dt === DT.UINT16 ? 2 : 1
      const out = dt === DT.BOOL ? new Uint8Array(n) : new Int32Array(n)
      if (view) {
        need(bytes)
        for (let i = 0; i < n; i++) {
          const o = i * bytes
          out[i] = dt === DT.INT32 ? view.getInt32(o, true) : dt === DT.UINT32 ? toInt32(view.getUint32(o, true))
            : dt === DT.INT16 ? view.getInt16(o, true) : dt === DT.UINT16 ? view.getUint16(o, true)
              : dt === DT.INT8 ? view.getInt8(o) : view.getUint8(o)
        }
      } else {
        const src = t.int32Data ?? []
        for (let i = 0; i < n; i++) out[i] = src[i] ?? 0
      }
      return { dtype: dt === DT.BOOL ? 'bool' : 'int32', shape, data: out }
    }
    default:
      throw new DeepVisError('BAD_MODEL', `tensor '${name}' has data type ${DT[dt] ?? dt}, which is not supported (float, double, float16, integer and bool tensors are)`)
  }
}

type AttrProto = onnxProto.onnx.IAttributeProto
const AT = onnx.AttributeProto.AttributeType

function decodeAttr(a: AttrProto, node: string, opts: ParseOptions): AttrValue {
  const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array())
  switch (a.type) {
    case AT.FLOAT: return a.f ?? 0
    case AT.INT: return toInt32(num(a.i as Long))
    case AT.STRING: return text(a.s)
    case AT.TENSOR: return decodeTensor(a.t!, opts)
    case AT.FLOATS: return [...(a.floats ?? [])]
    case AT.INTS: return (a.ints ?? []).map((v) => toInt32(num(v as Long)))
    case AT.STRINGS: return (a.strings ?? []).map(text)
    case AT.TENSORS: return (a.tensors ?? []).map((t) => decodeTensor(t, opts))
    default:
      throw new DeepVisError('BAD_MODEL', `node '${node}': attribute '${a.name}' is of type ${AT[a.type ?? 0] ?? a.type} (subgraphs, sparse tensors and type protos are not supported)`)
  }
}

function valueInfo(v: onnxProto.onnx.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType
  const dims = tt?.shape?.dim
  return {
    name: v.name ?? '',
    elemType: tt?.elemType ?? 0,
    shape: dims ? dims.map((d) => (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue as Long) > 0 ? num(d.dimValue as Long) : null)) : null,
  }
}

/** Parse an .onnx file's bytes. Throws DeepVisError (BAD_MODEL) with one line for a bad file. */
export function parseOnnx(bytes: Uint8Array, opts: ParseOptions = {}): OnnxModelDef {
  const file = opts.fileName ?? 'the ONNX file'
  let m: ReturnType<typeof onnx.ModelProto.decode>
  try {
    m = onnx.ModelProto.decode(bytes)
  } catch (e) {
    throw new DeepVisError('BAD_MODEL', `${file} is not a valid ONNX model (protobuf decoding failed: ${(e as Error).message})`)
  }
  const g = m.graph
  if (!g || !g.node || g.node.length === 0) throw new DeepVisError('BAD_MODEL', `${file} holds no ONNX graph (no nodes); is it an ONNX model?`)
  const opsets = m.opsetImport ?? []
  const main = opsets.find((o) => !o.domain || o.domain === 'ai.onnx')
  const opset = main ? num(main.version as Long) : 0
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new DeepVisError('BAD_MODEL', `${file} uses ONNX opset ${opset || '(none)'}; supported opsets are ${MIN_OPSET} to ${MAX_OPSET} (re-export with opset_version=13..17)`)
  }
  const initializers = new Map<string, HostTensor>()
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', decodeTensor(t, opts))
  const nodes: NodeDef[] = g.node.map((n, i) => {
    const name = n.name || `${n.opType}_${i}`
    const attrs: Record<string, AttrValue> = {}
    for (const a of n.attribute ?? []) attrs[a.name ?? ''] = decodeAttr(a, name, opts)
    return { name, opType: n.opType ?? '', domain: n.domain ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs }
  })
  return {
    irVersion: num(m.irVersion as Long),
    opset,
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    nodes,
    initializers,
    inputs: (g.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(valueInfo),
    outputs: (g.output ?? []).map(valueInfo),
  }
}

/** Decode a serialized TensorProto (the `input_0.pb` files of ONNX's backend tests). */
export function parseTensorProto(bytes: Uint8Array): HostTensor {
  let t
  try { t = onnx.TensorProto.decode(bytes) } catch (e) {
    throw new DeepVisError('BAD_MODEL', `not a valid ONNX TensorProto: ${(e as Error).message}`)
  }
  return decodeTensor(t)
}

