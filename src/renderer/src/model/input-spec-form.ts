/**
 * The input-spec editor's form: text fields as the user typed them, checked before anything is
 * sent (`model:setInputSpec`) with the same bounds the main process enforces, one message per bad
 * field. The whole form is sent, so a correction replaces the previous one completely.
 * Shape: `specForm(summary) => SpecForm`; `parseSpecForm(form) => { override } | { errors }`
 */
import type { InputSpecOverride } from '../../../shared/app-types'
import type { InputSpecSummary } from '../../../shared/ipc-contract'
import { MAX_INPUT_SIDE, MIN_INPUT_SIDE } from '../../../shared/ipc-limits'

/** Highest mean value, in pixel units. */
export const MAX_MEAN = 255
/** What the mean field shows (and accepts, meaning "keep it") for a full mean image. */
export const MEAN_IMAGE_TEXT = 'image'

/** The editor's fields, as text (number inputs give strings, and half-typed values must survive). */
export interface SpecForm {
  height: string
  width: string
  channelOrder: 'RGB' | 'BGR'
  /** 1 or 3 numbers separated by commas or spaces, or 'image' to keep a mean image. */
  mean: string
}

export type SpecFormErrors = Partial<Record<keyof SpecForm, string>>

/** The form filled from the model's current input spec. */
export function specForm(spec: InputSpecSummary): SpecForm {
  return {
    height: String(spec.height),
    width: String(spec.width),
    channelOrder: spec.channelOrder,
    mean: spec.mean === 'image' ? MEAN_IMAGE_TEXT : spec.mean.join(', '),
  }
}

function side(text: string, what: string): number | string {
  const v = Number(text.trim())
  if (text.trim() === '' || !Number.isInteger(v)) return `${what} must be a whole number of pixels`
  if (v < MIN_INPUT_SIDE || v > MAX_INPUT_SIDE) return `${what} must be between ${MIN_INPUT_SIDE} and ${MAX_INPUT_SIDE}`
  return v
}

function meanValues(text: string): number[] | null | string {
  const t = text.trim()
  if (t === MEAN_IMAGE_TEXT) return null
  const parts = t.split(/[\s,]+/).filter((p) => p.length > 0)
  if (parts.length !== 1 && parts.length !== 3) return 'mean takes 1 value (all channels) or 3 (one per channel)'
  const values = parts.map(Number)
  if (values.some((v) => !Number.isFinite(v))) return 'mean values must be numbers'
  if (values.some((v) => v < 0 || v > MAX_MEAN)) return `mean values are pixel values between 0 and ${MAX_MEAN}`
  return values
}

/** The correction to send, or a message per invalid field. */
export function parseSpecForm(form: SpecForm): { override: InputSpecOverride; errors?: undefined } | { override?: undefined; errors: SpecFormErrors } {
  const errors: SpecFormErrors = {}
  const height = side(form.height, 'height')
  const width = side(form.width, 'width')
  const mean = meanValues(form.mean)
  if (typeof height === 'string') errors.height = height
  if (typeof width === 'string') errors.width = width
  if (typeof mean === 'string') errors.mean = mean
  if (form.channelOrder !== 'RGB' && form.channelOrder !== 'BGR') errors.channelOrder = 'channel order is RGB or BGR'
  if (Object.keys(errors).length > 0) return { errors }
  const override: InputSpecOverride = { height: height as number, width: width as number, channelOrder: form.channelOrder }
  if (Array.isArray(mean)) override.mean = mean
  return { override }
}
