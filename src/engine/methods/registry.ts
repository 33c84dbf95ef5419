/**
 * The registry of methods: every method the app, the CLI and the run service can run, in the order --method
 * lists them. Adding a method is one module under catalog/ plus one line here.
 * Shape: `METHODS`; `methodNames()`; `generalMethod(name) => GeneralMethod` (BAD_PARAM for an unknown one).
 */
import { DeepVisError } from '../../shared/errors.ts'
import type { GeneralMethod, MethodDefinition } from './method.ts'
import { dvt } from './catalog/dvt.ts'
import { lucid } from './catalog/lucid.ts'
import { dnnbrain } from './catalog/dnnbrain.ts'
import { normstep } from './catalog/normstep.ts'
import { seed004 } from './catalog/seed004.ts'
import { cnnprefGd } from './catalog/cnnpref-gd.ts'
import { cnnprefLbfgs } from './catalog/cnnpref-lbfgs.ts'
import { accentuation, maco } from './catalog/crop-methods.ts'

export const METHODS: readonly MethodDefinition[] = [
  dvt,
  lucid,
  dnnbrain,
  normstep,
  seed004,
  cnnprefGd,
  cnnprefLbfgs,
  maco,
  accentuation,
]

/** The general (non-DVT) methods, in registry order. */
export const GENERAL_METHOD_DEFS: readonly GeneralMethod[] = METHODS.filter((m): m is GeneralMethod => m.family === 'general')

/** Every method name, DVT first. */
export function methodNames(): string[] {
  return METHODS.map((m) => m.name)
}

/** The general methods' names. */
export function generalMethodNames(): string[] {
  return GENERAL_METHOD_DEFS.map((m) => m.name)
}

/** The general method of that name; BAD_PARAM naming the choices otherwise. */
export function generalMethod(name: string): GeneralMethod {
  const m = GENERAL_METHOD_DEFS.find((d) => d.name === name)
  if (!m) throw new DeepVisError('BAD_PARAM', `method must be one of ${generalMethodNames().join(', ')}; got '${name}'`)
  return m
}

/** The general methods that read `key` (registry order). */
export function readersOf(key: string): string[] {
  return GENERAL_METHOD_DEFS.filter((m) => (m.reads as readonly string[]).includes(key)).map((m) => m.name)
}
