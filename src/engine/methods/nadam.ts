/**
 * NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"), as PyTorch's torch.optim.NAdam (the
 * optimizer of serre-lab/Horama's MACO; tfjs has none). With t the 1-based step, ψ = momentum_decay:
 *   μ_t = β1 (1 − ½·0.96^(t ψ)),  μ_{t+1} = β1 (1 − ½·0.96^((t+1) ψ)),  Π_t = Π_{t−1} μ_t (Π_0 = 1)
 *   m_t = β1 m_{t−1} + (1 − β1) g,  v_t = β2 v_{t−1} + (1 − β2) g²,  d = sqrt(v_t / (1 − β2^t)) + ε
 *   θ ← θ − lr (1 − μ_t) / (1 − Π_t) · g / d − lr μ_{t+1} / (1 − Π_t μ_{t+1}) · m_t / d
 * (minimizes; pass the gradient of the loss). xplique's MACO uses Keras' Nadam instead, whose momentum
 * schedule is written differently; we follow PyTorch's, which is the reference code of the paper.
 * The moment buffers are owned here (dispose()); Π_t is kept in float64 on the host.
 * Shape: `const opt = new NAdam(lr)`; `opt.step(vars, grads)` (grads disposed by the caller); `opt.dispose()`.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'

/** PyTorch's defaults. */
export const NADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 4e-3 } as const
/** Base of the momentum schedule (Dozat; PyTorch). */
const MOMENTUM_SCHEDULE_BASE = 0.96

export interface NAdamOptions {
  beta1?: number
  beta2?: number
  eps?: number
  momentumDecay?: number
}

/** μ_t of step t (1-based). */
export function nadamMu(t: number, beta1: number, momentumDecay: number): number {
  return beta1 * (1 - 0.5 * MOMENTUM_SCHEDULE_BASE ** (t * momentumDecay))
}

export class NAdam {
  readonly lr: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly momentumDecay: number
  /** Steps taken. */
  t = 0
  private muProduct = 1
  private m: tf.Variable[] = []
  private v: tf.Variable[] = []

  constructor(lr: number, opts: NAdamOptions = {}) {
    check(Number.isFinite(lr) && lr > 0, () => `NAdam learning rate must be > 0; got ${lr}`)
    this.lr = lr
    this.beta1 = opts.beta1 ?? NADAM_DEFAULTS.beta1
    this.beta2 = opts.beta2 ?? NADAM_DEFAULTS.beta2
    this.eps = opts.eps ?? NADAM_DEFAULTS.eps
    this.momentumDecay = opts.momentumDecay ?? NADAM_DEFAULTS.momentumDecay
  }

  /** One step on `vars` with the loss gradients `grads` (same order and shapes). */
  step(vars: tf.Variable[], grads: tf.Tensor[]): void {
    check(vars.length === grads.length, () => `NAdam: ${vars.length} variables but ${grads.length} gradients`)
    if (this.m.length === 0) {
      this.m = tf.tidy(() => vars.map((x) => tf.variable(tf.zerosLike(x), false)))
      this.v = tf.tidy(() => vars.map((x) => tf.variable(tf.zerosLike(x), false)))
    }
    this.t += 1
    const t = this.t
    const mu = nadamMu(t, this.beta1, this.momentumDecay)
    const muNext = nadamMu(t + 1, this.beta1, this.momentumDecay)
    this.muProduct *= mu
    const gradCoef = (this.lr * (1 - mu)) / (1 - this.muProduct)
    const momCoef = (this.lr * muNext) / (1 - this.muProduct * muNext)
    const bias2 = 1 - this.beta2 ** t
    tf.tidy(() => {
      vars.forEach((x, i) => {
        const g = grads[i]
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1))
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2))
        const d = tf.add(tf.sqrt(tf.div(v, bias2)), this.eps)
        x.assign(tf.sub(x, tf.add(tf.mul(tf.div(g, d), gradCoef), tf.mul(tf.div(m, d), momCoef))))
        this.m[i].assign(m)
        this.v[i].assign(v)
      })
    })
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v])
    this.m = []
    this.v = []
  }
}
