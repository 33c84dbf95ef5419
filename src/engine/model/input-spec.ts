/**
 * Input spec: how DVT pixel space maps onto what a network expects.
 * The optimized x lives on a 0..255 scale, mean-subtracted, in the model's channel order, HWC.
 * network_input = (x + mean) * scale + offset, per channel; this map is part of the differentiable forward.
 * Shape: plain data (`InputSpec`) + `validateInputSpec(spec)`.
 */
import { check } from '../../shared/errors.ts'

export type ChannelOrder = 'RGB' | 'BGR'

export interface InputSpec {
  height: number
  width: number
  /** Always 3 for now (colour images). */
  channels: number
  channelOrder: ChannelOrder
  /** DVT mean in pixel units, model channel order: length C (per channel) or H*W*C (full image, HWC). */
  mean: Float32Array
  /** Per-channel multiplier of the pixel values (length C). */
  scale: number[]
  /** Per-channel offset added after scaling (length C). */
  offset: number[]
  /** Class labels, label[i] for unit i of the class layer, when known. */
  labels: string[] | null
  /** Where the spec came from, for the record (e.g. "deepvis.json", "index.json", "flags", "default"). */
  source: string
}

export function meanIsImage(spec: InputSpec): boolean {
  return spec.mean.length === spec.height * spec.width * spec.channels
}

/** Permutation taking model channel order to RGB for display (DVT's channel_swap_to_rgb). */
export function channelSwapToRgb(order: ChannelOrder): [number, number, number] {
  return order === 'BGR' ? [2, 1, 0] : [0, 1, 2]
}

export function validateInputSpec(spec: InputSpec): InputSpec {
  const { height, width, channels } = spec
  check(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0,
    () => `input size must be two positive integers; got ${height}x${width}`, 'BAD_INPUT_SPEC')
  check(channels === 3, () => `only 3-channel inputs are supported; got ${channels}`, 'BAD_INPUT_SPEC')
  check(spec.mean.length === channels || spec.mean.length === height * width * channels,
    () => `mean must have ${channels} values (per channel) or ${height}x${width}x${channels} (an image); got ${spec.mean.length} values`, 'BAD_INPUT_SPEC')
  check(spec.mean.every((v) => Number.isFinite(v)), () => 'mean contains a non-finite value', 'BAD_INPUT_SPEC')
  check(spec.scale.length === channels && spec.scale.every((v) => Number.isFinite(v) && v !== 0),
    () => `scale must be ${channels} finite non-zero numbers; got ${JSON.stringify(spec.scale)}`, 'BAD_INPUT_SPEC')
  check(spec.offset.length === channels && spec.offset.every((v) => Number.isFinite(v)),
    () => `offset must be ${channels} finite numbers; got ${JSON.stringify(spec.offset)}`, 'BAD_INPUT_SPEC')
  return spec
}

/** Broadcast a scalar or per-channel list to `channels` numbers. */
export function perChannel(value: number | number[], channels: number, what: string): number[] {
  const arr = typeof value === 'number' ? new Array<number>(channels).fill(value) : value
  check(Array.isArray(arr) && arr.length === channels && arr.every((v) => typeof v === 'number'),
    () => `${what} must be a number or a list of ${channels} numbers; got ${JSON.stringify(value)}`, 'BAD_INPUT_SPEC')
  return arr
}
