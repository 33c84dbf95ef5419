/**
 * Transparency maps (MACO's, Fel et al. 2023; xplique and Horama return the same): the accumulated absolute
 * gradient of the loss with respect to the image, per pixel, over every gradient evaluation of the run.
 * `tap(img)` is the identity in the forward pass; in the backward pass it adds |dL/dimg| summed over the
 * channels to the accumulator and passes the gradient on unchanged, so any method whose loss reads the image
 * through the tap gets its map for the cost of one abs and one add per step.
 * The accumulator is kept out of every tf.tidy (tf.keep) and owned here (dispose()).
 * Shape: `const a = new AlphaAccumulator()`; in the loss: `model(a.tap(img [N, H, W, C]))`;
 *   `await a.read() => Float32Array[] | null` (one H*W map per image); `a.dispose()`.
 */
import * as tf from '@tensorflow/tfjs'
import { resizeAA } from './maco.ts'

export class AlphaAccumulator {
  private acc: tf.Tensor3D | null = null
  private shape: [number, number, number] | null = null
  /** Gradient evaluations accumulated. */
  count = 0

  private readonly identity = tf.customGrad(((x: tf.Tensor) => {
    return {
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor) => {
        const a = tf.sum(tf.abs(dy), -1) as tf.Tensor3D
        const next = this.acc ? tf.add(this.acc, a) as tf.Tensor3D : a
        tf.keep(next)
        if (this.acc && this.acc !== next) this.acc.dispose()
        this.acc = next
        this.shape = a.shape as [number, number, number]
        this.count++
        return dy
      },
    }
  }) as unknown as Parameters<typeof tf.customGrad>[0])

  /** The identity whose gradient is recorded; img [N, H, W, C]. Call inside the loss. */
  tap<T extends tf.Tensor>(img: T): T {
    return this.identity(img) as T
  }

  /** One Float32Array (H*W, row-major) per image, or null when no gradient was ever taken. */
  async read(): Promise<Float32Array[] | null> {
    if (!this.acc || !this.shape) return null
    const [n, h, w] = this.shape
    const data = (await this.acc.data()) as Float32Array
    return Array.from({ length: n }, (_, i) => data.slice(i * h * w, (i + 1) * h * w))
  }

  /** As read(), resized (antialiased) to h x w when the canvas has another size (MACO's larger canvas). */
  async readAt(h: number, w: number): Promise<Float32Array[] | null> {
    if (!this.acc || !this.shape) return null
    const [n, ah, aw] = this.shape
    if (ah === h && aw === w) return this.read()
    const small = tf.tidy(() => resizeAA(this.acc!.reshape([n, ah, aw, 1]) as tf.Tensor4D, h, w))
    const data = (await small.data()) as Float32Array
    small.dispose()
    return Array.from({ length: n }, (_, i) => data.slice(i * h * w, (i + 1) * h * w))
  }

  /** [N, H, W] accumulated map (a clone the caller owns), or null. */
  tensor(): tf.Tensor3D | null {
    return this.acc ? tf.clone(this.acc) : null
  }

  dispose(): void {
    this.acc?.dispose()
    this.acc = null
  }
}
