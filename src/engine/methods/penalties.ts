/**
 * Image penalties of dnnbrain's SynthesisImage (BNUCNL/dnnbrain dnn/algo.py L417-435), per image of a
 * batch and differentiable: total variation (anisotropic, a sum), L1 (Σ|x|) and L2 (sqrt(Σx²), the
 * norm, not its square, as dnnbrain). dnnbrain's loss is −activation + λ·R(img); the caller scales.
 * Shape: (x: tf.Tensor4D [N, H, W, C]) => tf.Tensor1D [N]; pure, no state, no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'

function checkBatch(x: tf.Tensor, what: string): void {
  check(x.rank === 4, () => `${what} expects a batch [N, H, W, C]; got shape [${x.shape.join(', ')}]`)
}

/**
 * Anisotropic total variation per image: Σ|x[i+1,j]−x[i,j]| + Σ|x[i,j+1]−x[i,j]| over rows, columns and
 * channels (a sum, not a mean; Mahendran & Vedaldi 2015 in dnnbrain's form).
 * @example totalVariation(tf.tensor4d([0, 1, 1, 0], [1, 2, 2, 1])) // → [4]
 */
export function totalVariation(x: tf.Tensor4D): tf.Tensor1D {
  checkBatch(x, 'totalVariation')
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape
    const parts: tf.Tensor1D[] = []
    if (h > 1) parts.push(tf.abs(tf.sub(tf.slice(x, [0, 1, 0, 0], [n, h - 1, w, c]), tf.slice(x, [0, 0, 0, 0], [n, h - 1, w, c]))).sum([1, 2, 3]))
    if (w > 1) parts.push(tf.abs(tf.sub(tf.slice(x, [0, 0, 1, 0], [n, h, w - 1, c]), tf.slice(x, [0, 0, 0, 0], [n, h, w - 1, c]))).sum([1, 2, 3]))
    return parts.length ? (tf.addN(parts) as tf.Tensor1D) : (tf.zeros([n]) as tf.Tensor1D)
  })
}

/**
 * L1 norm per image, Σ|x|.
 * @example l1Penalty(tf.tensor4d([-1, 2, -3, 4], [1, 2, 2, 1])) // → [10]
 */
export function l1Penalty(x: tf.Tensor4D): tf.Tensor1D {
  checkBatch(x, 'l1Penalty')
  return tf.tidy(() => tf.abs(x).sum([1, 2, 3]) as tf.Tensor1D)
}

/**
 * L2 norm per image, sqrt(Σx²) (dnnbrain's `torch.norm`, not squared). Its gradient x/‖x‖ is undefined
 * at x = 0 (NaN there), as in dnnbrain; start from a non-zero image.
 * @example l2Penalty(tf.tensor4d([3, 0, 0, 4], [1, 2, 2, 1])) // → [5]
 */
export function l2Penalty(x: tf.Tensor4D): tf.Tensor1D {
  checkBatch(x, 'l2Penalty')
  return tf.tidy(() => tf.sqrt(tf.square(x).sum([1, 2, 3])) as tf.Tensor1D)
}
