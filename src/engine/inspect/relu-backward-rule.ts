/**
 * Backward rules of the ReLU for the three gradient views of a unit (DVT's "backprop" and "deconv"
 * modes, plus guided backprop). With dy the gradient of the unit's activation (maximized, not a loss)
 * arriving at a ReLU's output y = relu(x):
 *   'gradient' (plain backprop, Simonyan et al. 2014): dx = dy * [x > 0]         (the true derivative)
 *   'guided'   (Springenberg et al. 2015):             dx = dy * [x > 0] * [dy > 0]
 *   'deconv'   (Zeiler & Fergus 2014; DVT's deconv):   dx = relu(dy)             (the forward x is ignored)
 * Every other op keeps its own gradient: a max-pool sends dy to the max's position (Zeiler & Fergus'
 * "switches") and a convolution's input gradient is the transposed convolution with the same filters,
 * which is exactly the deconvnet's unpooling and filtering. Relu6 gets the same rules on its lower edge
 * ('gradient' and 'guided' keep its upper-edge mask; 'deconv' ignores x entirely).
 * Other activations (leaky ReLU, ELU, sigmoid...) keep their true gradient in every mode.
 * Installed once, by wrapping whatever Relu/Relu6 gradient is registered (tfjs's own, or
 * relu-override.ts's, which it calls unchanged when a rule is not active); acts only inside
 * `withReluBackwardRule(rule, f)`, which must enclose both the forward and the backward pass
 * (a tf.grad call).
 * Shape: `withReluBackwardRule('guided', () => tf.grad(f)(x))`
 */
import * as tf from '@tensorflow/tfjs'

export const GRADIENT_VIEWS = ['gradient', 'guided', 'deconv'] as const
export type GradientViewMode = (typeof GRADIENT_VIEWS)[number]

let rule: GradientViewMode = 'gradient'
let installed = false

function wrap(kernel: 'Relu' | 'Relu6'): void {
  const original = tf.getGradient(kernel)
  if (!original) return
  const gradFunc: tf.GradConfig['gradFunc'] = (dy, saved, attrs) => {
    const orig = original.gradFunc(dy, saved, attrs)
    if (rule === 'gradient') return orig
    const g = dy as tf.Tensor
    if (rule === 'deconv') return { x: () => tf.relu(g) }
    return { x: () => tf.tidy(() => tf.mul(orig.x() as tf.Tensor, tf.cast(tf.greater(g, 0), g.dtype))) }
  }
  // tfjs warns when a gradient is registered twice; this override is deliberate.
  const warn = console.warn
  console.warn = () => {}
  try {
    tf.registerGradient({ ...original, gradFunc })
  } finally {
    console.warn = warn
  }
}

/** Wrap the Relu and Relu6 gradients (idempotent); they behave as tfjs's own outside withReluBackwardRule. */
export function installReluBackwardRules(): void {
  if (installed) return
  wrap('Relu')
  wrap('Relu6')
  installed = true
}

/** Run `f` (a forward + backward pass, e.g. a tf.grad call) with `mode`'s ReLU backward rule. */
export function withReluBackwardRule<T>(mode: GradientViewMode, f: () => T): T {
  installReluBackwardRules()
  const prev = rule
  rule = mode
  try {
    return f()
  } finally {
    rule = prev
  }
}
