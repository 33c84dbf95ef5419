/**
 * Lucid's redirected ReLU gradient (lucid/misc/redirected_relu_grad.py), used for the first steps of an
 * optimization (lucid: 16) so that an objective behind a dead ReLU still gets a gradient.
 *
 * With dy the gradient of the MAXIMIZED objective at the ReLU's output and x its input:
 *   relu_grad = dy where x > 0 else 0                                      (the normal gradient)
 *   redirected = dy, except 0 where x < 0 and dy < 0 (it would push an already negative input lower)
 *   per batch image: relu_grad if ||relu_grad|| > 0, else redirected.
 * (Lucid writes it for the gradient of the minimized loss, where the test is `grad > 0`: the same rule.)
 * Relu6 gets the same treatment on its lower edge (its upper edge keeps the normal gradient).
 * Installed once (wraps tfjs's Relu/Relu6 gradients); it only acts inside `withReluOverride(true, f)`.
 * Shape: `installReluOverride()`; `withReluOverride(on, () => value)`.
 */
import * as tf from '@tensorflow/tfjs'

let active = false
let installed = false

function redirect(dy: tf.Tensor, x: tf.Tensor, normal: tf.Tensor): tf.Tensor {
  const n = x.shape[0] ?? 1
  // tfjs gradients are of the loss being differentiated; the loop differentiates -objective, so dy > 0
  // here means "raising the output lowers the objective" (lucid's convention): zero those where x < 0.
  const negPushingLower = tf.logicalAnd(tf.less(x, 0), tf.greater(dy, 0))
  const redirected = tf.where(negPushingLower, tf.zerosLike(dy), dy)
  const mag = tf.sum(tf.abs(normal.reshape([n, -1])), 1) // [N]
  const useNormal = tf.greater(mag, 0).reshape([n, ...Array(x.rank - 1).fill(1)]).tile([1, ...x.shape.slice(1)])
  return tf.where(useNormal, normal, redirected)
}

function override(kernel: 'Relu' | 'Relu6'): void {
  const original = tf.getGradient(kernel)
  if (!original) return
  const gradFunc: tf.GradConfig['gradFunc'] = (dy, saved, attrs) => {
    const orig = original.gradFunc(dy, saved, attrs)
    if (!active) return orig
    const [x] = saved as [tf.Tensor]
    return { x: () => tf.tidy(() => redirect(dy as tf.Tensor, x, orig.x())) }
  }
  const warn = console.warn
  console.warn = () => {}
  try {
    tf.registerGradient({ ...original, gradFunc })
  } finally {
    console.warn = warn
  }
}

/** Wrap tfjs's Relu and Relu6 gradients (idempotent); they stay unchanged outside withReluOverride(true, ...). */
export function installReluOverride(): void {
  if (installed) return
  override('Relu')
  override('Relu6')
  installed = true
}

/** Run `f` (a gradient computation) with the redirected ReLU gradient on or off. */
export function withReluOverride<T>(on: boolean, f: () => T): T {
  installReluOverride()
  const prev = active
  active = on
  try {
    return f()
  } finally {
    active = prev
  }
}
