/**
 * L-BFGS with box bounds (projected L-BFGS, an "L-BFGS-B lite"), for cnnpref's L-BFGS preferred-image
 * method (prefer_img_lbfgs.py: scipy `minimize(method='L-BFGS-B', jac=True, bounds=…, maxiter=500)`).
 * No npm package does L-BFGS-B (the registry list has none), so it is written here.
 * Shape: await minimizeLbfgsB(f, x0, options) => LbfgsResult, with f(x) => {value, grad} (sync or
 * async, so a tensor forward/backward can compute it; f must not keep or modify x).
 *
 * Per iteration: variables at a bound whose gradient pushes outwards are held fixed (the active set);
 * the two-loop recursion over the last m (s, y) pairs gives the quasi-Newton direction d on the free
 * variables (steepest descent when d is not a descent direction, and the history is reset); a
 * backtracking Armijo search along the projected path x(α) = P(x + α·d) takes the step. It stops when
 * the projected gradient's max-norm ≤ gtol, when the relative decrease ≤ ftol (scipy's factr·eps test),
 * when the line search fails, or after maxIter iterations. Unlike scipy's L-BFGS-B it uses no Cauchy
 * point / subspace minimization, so it can take more iterations on strongly bound-constrained problems.
 */
import { check } from '../../shared/errors.ts'

/** Value and gradient of the function to minimize at x. */
export interface ValueAndGrad {
  value: number
  grad: ArrayLike<number>
}

export type LbfgsObjective = (x: Float64Array) => ValueAndGrad | Promise<ValueAndGrad>

export interface LbfgsOptions {
  /** Lower bounds: a number for all variables or one per variable; default −Infinity. */
  lower?: number | ArrayLike<number>
  /** Upper bounds, as `lower`; default +Infinity. */
  upper?: number | ArrayLike<number>
  /** History length (pairs kept). Default 10, as scipy. */
  m?: number
  /** Maximum iterations. Default 500 (cnnpref's maxiter). */
  maxIter?: number
  /** Stop when max |projected gradient| ≤ gtol. Default 1e-5, as scipy. */
  gtol?: number
  /** Stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol. Default 2.22e-9 (scipy factr 1e7 × eps). */
  ftol?: number
  /** Maximum function evaluations per line search. Default 20, as scipy's maxls. */
  maxLineSearch?: number
  /** Called after every iteration with the iteration count (1-based), x and f(x); return true to stop. */
  onIteration?: (iteration: number, x: Float64Array, value: number) => boolean | void
}

export type LbfgsStop = 'gtol' | 'ftol' | 'maxIter' | 'lineSearch' | 'callback'

export interface LbfgsResult {
  /** Best point found (within the bounds). */
  x: Float64Array
  value: number
  grad: Float64Array
  iterations: number
  evaluations: number
  /** Why it stopped. */
  stop: LbfgsStop
  /** True when a tolerance (gtol or ftol) was met. */
  converged: boolean
}

/** Armijo's sufficient-decrease constant. */
const ARMIJO_C1 = 1e-4
/** Step shrink factor of the backtracking search. */
const BACKTRACK = 0.5
/** A pair (s, y) is kept only when s·y > CURVATURE_EPS·y·y (keeps the Hessian estimate positive). */
const CURVATURE_EPS = 2.2e-16

function bounds(b: number | ArrayLike<number> | undefined, n: number, fill: number, what: string): Float64Array {
  if (b === undefined) return new Float64Array(n).fill(fill)
  if (typeof b === 'number') {
    check(!Number.isNaN(b), () => `${what} bound is NaN`)
    return new Float64Array(n).fill(b)
  }
  check(b.length === n, () => `${what} bounds have ${b.length} values for ${n} variables`)
  const out = Float64Array.from(b)
  check(out.every((v) => !Number.isNaN(v)), () => `${what} bounds contain NaN`)
  return out
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/**
 * Minimizes f within lower ≤ x ≤ upper by projected L-BFGS (see the file header).
 * @example
 * const r = await minimizeLbfgsB((x) => ({ value: (x[0] - 3) ** 2, grad: [2 * (x[0] - 3)] }), [0], { upper: 1 })
 * // r.x[0] === 1 (on the bound), r.stop === 'gtol'
 */
export async function minimizeLbfgsB(f: LbfgsObjective, x0: ArrayLike<number>, options: LbfgsOptions = {}): Promise<LbfgsResult> {
  const n = x0.length
  check(n > 0, () => 'L-BFGS needs at least one variable')
  const { m = 10, maxIter = 500, gtol = 1e-5, ftol = 2.220446049250313e-9, maxLineSearch = 20, onIteration } = options
  check(Number.isInteger(m) && m > 0, () => `L-BFGS history m must be a positive integer; got ${m}`)
  check(Number.isInteger(maxIter) && maxIter >= 0, () => `maxIter must be an integer >= 0; got ${maxIter}`)
  check(Number.isInteger(maxLineSearch) && maxLineSearch > 0, () => `maxLineSearch must be a positive integer; got ${maxLineSearch}`)
  check(gtol >= 0 && ftol >= 0, () => `gtol and ftol must be >= 0; got ${gtol}, ${ftol}`)
  const lo = bounds(options.lower, n, -Infinity, 'lower')
  const hi = bounds(options.upper, n, Infinity, 'upper')
  for (let i = 0; i < n; i++) check(lo[i] <= hi[i], () => `lower bound ${lo[i]} > upper bound ${hi[i]} at variable ${i}`)

  const project = (v: Float64Array): Float64Array => {
    for (let i = 0; i < n; i++) v[i] = Math.min(hi[i], Math.max(lo[i], v[i]))
    return v
  }
  let evaluations = 0
  const evaluate = async (x: Float64Array): Promise<{ value: number; grad: Float64Array }> => {
    evaluations++
    const r = await f(x)
    check(r.grad.length === n, () => `objective returned ${r.grad.length} gradient values for ${n} variables`)
    return { value: r.value, grad: Float64Array.from(r.grad) }
  }
  /** max |x − P(x − g)|: zero exactly at a KKT point of the box-constrained problem. */
  const projectedGradNorm = (x: Float64Array, g: Float64Array): number => {
    let mx = 0
    for (let i = 0; i < n; i++) mx = Math.max(mx, Math.abs(x[i] - Math.min(hi[i], Math.max(lo[i], x[i] - g[i]))))
    return mx
  }

  let x = project(Float64Array.from(x0))
  let { value, grad } = await evaluate(x)
  check(Number.isFinite(value), () => `objective is not finite at the start point (${value})`)
  const sHist: Float64Array[] = []
  const yHist: Float64Array[] = []
  const rhoHist: number[] = []
  let iterations = 0
  let stop: LbfgsStop

  while (true) {
    if (projectedGradNorm(x, grad) <= gtol) { stop = 'gtol'; break }
    if (iterations >= maxIter) { stop = 'maxIter'; break }

    // Free variables: not at a bound that the gradient pushes against.
    const free = new Uint8Array(n)
    for (let i = 0; i < n; i++) free[i] = (x[i] <= lo[i] && grad[i] > 0) || (x[i] >= hi[i] && grad[i] < 0) ? 0 : 1
    const q = Float64Array.from(grad, (g, i) => (free[i] ? g : 0))

    // Two-loop recursion on the free components.
    const k = sHist.length
    const alpha = new Float64Array(k)
    for (let j = k - 1; j >= 0; j--) {
      alpha[j] = rhoHist[j] * dot(sHist[j], q)
      const y = yHist[j]
      for (let i = 0; i < n; i++) q[i] -= alpha[j] * y[i]
    }
    const gamma = k ? dot(sHist[k - 1], yHist[k - 1]) / dot(yHist[k - 1], yHist[k - 1]) : 0
    for (let i = 0; i < n; i++) q[i] *= k ? gamma : 1
    for (let j = 0; j < k; j++) {
      const beta = rhoHist[j] * dot(yHist[j], q)
      const s = sHist[j]
      for (let i = 0; i < n; i++) q[i] += (alpha[j] - beta) * s[i]
    }
    let d = Float64Array.from(q, (v, i) => (free[i] ? -v : 0))
    if (!(dot(d, grad) < 0)) {
      // Not a descent direction: drop the history and go down the free gradient.
      sHist.length = 0; yHist.length = 0; rhoHist.length = 0
      d = Float64Array.from(grad, (g, i) => (free[i] ? -g : 0))
    }
    // First step (no curvature information yet): length 1 in the max-norm, as scipy's 1/‖d‖.
    let step = 1
    if (sHist.length === 0) {
      let dmax = 0
      for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(d[i]))
      if (dmax > 0) step = Math.min(1, 1 / dmax)
    }

    // Backtracking Armijo search along the projected path.
    let accepted: { x: Float64Array; value: number; grad: Float64Array } | null = null
    for (let ls = 0; ls < maxLineSearch; ls++) {
      const xt = project(Float64Array.from(x, (v, i) => v + step * d[i]))
      const r = await evaluate(xt)
      let decrease = 0
      for (let i = 0; i < n; i++) decrease += grad[i] * (xt[i] - x[i])
      if (Number.isFinite(r.value) && r.value <= value + ARMIJO_C1 * decrease) { accepted = { x: xt, ...r }; break }
      step *= BACKTRACK
    }
    if (!accepted) { stop = 'lineSearch'; break }

    const s = Float64Array.from(accepted.x, (v, i) => v - x[i])
    const y = Float64Array.from(accepted.grad, (v, i) => v - grad[i])
    const sy = dot(s, y)
    if (sy > CURVATURE_EPS * dot(y, y)) {
      sHist.push(s); yHist.push(y); rhoHist.push(1 / sy)
      if (sHist.length > m) { sHist.shift(); yHist.shift(); rhoHist.shift() }
    }
    const previous = value
    x = accepted.x; value = accepted.value; grad = accepted.grad
    iterations++
    if (onIteration?.(iterations, x, value) === true) { stop = 'callback'; break }
    if ((previous - value) / Math.max(Math.abs(previous), Math.abs(value), 1) <= ftol) { stop = 'ftol'; break }
  }
  return { x, value, grad, iterations, evaluations, stop, converged: stop === 'gtol' || stop === 'ftol' }
}
