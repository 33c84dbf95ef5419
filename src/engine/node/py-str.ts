/**
 * Python `str()` / `repr()` emulation for DVT's text outputs (info.txt, file-name templates): ints
 * and floats as Python 2.7 prints them (shortest round-trip repr, %g-style str with 12 digits, old numpy
 * float32 scalars), None / True / False, tuples and dict reprs. Pure functions.
 * Shape: `pyFloat(v, 'repr' | 'float32' | digits)`; `pyStr(value)`; `pyRepr(value)`; `pyTuple(items)`.
 */

/** Python's repr switches to exponent notation from 1e16 on. */
const PY_REPR_EXP_MAX = 16
/** %g and repr switch to exponent notation below 1e-4. */
const PY_EXP_MIN = -4
/** Enough significant digits to round-trip any float32. */
const FLOAT32_MAX_DIGITS = 9

/** A value as Python's `str()` would print it (tuples for arrays, None for null, dict repr for objects). */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value
  return pyRepr(value)
}

/** A value as Python's `repr()` would print it. Integral numbers print as ints, others as float repr. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloat(value, 'repr')
  if (typeof value === 'string') return `'${value}'`
  if (Array.isArray(value)) return pyTuple(value.map(pyRepr))
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(', ')}}`
  }
  return String(value)
}

export function pyTuple(items: string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
}

/**
 * A float formatted as Python prints it: `'repr'` = shortest round-trip (Python 2.7 repr),
 * `'float32'` = shortest string that round-trips as float32, a number = `'%.<n>g'` (Python 2 str uses 12).
 * Integral values keep a trailing '.0'; exponents have at least two digits (`1e-05`).
 */
export function pyFloat(v: number, style: 'repr' | 'float32' | number): string {
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0'
  let exp: string
  if (style === 'repr') exp = v.toExponential()
  else if (style === 'float32') {
    const f = Math.fround(v)
    exp = f.toExponential(FLOAT32_MAX_DIGITS - 1)
    for (let digits = 1; digits <= FLOAT32_MAX_DIGITS; digits++) {
      const candidate = f.toExponential(digits - 1)
      if (Math.fround(Number(candidate)) === f) { exp = candidate; break }
    }
  } else exp = v.toExponential(style - 1)
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)
  if (!m) return String(v)
  const sign = m[1]
  const digits = (m[2] + (m[3] ?? '')).replace(/0+$/, '') || '0'
  const e = Number(m[4])
  const expMax = typeof style === 'number' ? style : PY_REPR_EXP_MAX
  if (e < PY_EXP_MIN || e >= expMax) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  }
  if (e >= 0) {
    const intPart = digits.slice(0, e + 1).padEnd(e + 1, '0')
    const frac = digits.slice(e + 1)
    return `${sign}${intPart}.${frac || '0'}`
  }
  return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
}
