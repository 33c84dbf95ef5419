/**
 * Access to the real pretrained models in ../shared/models (tests and benchmarks only; never
 * committed). Tests that need them skip with a clear message when the folder is absent.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'

export const SHARED_MODELS = path.resolve(import.meta.dirname, '../../../shared/models')
export const HAVE_SHARED_MODELS = existsSync(path.join(SHARED_MODELS, 'index.json'))

export function sharedModel(id: string): string {
  return path.join(SHARED_MODELS, id)
}

if (!HAVE_SHARED_MODELS) {
  console.warn(`[deepvis tests] ${SHARED_MODELS} not found: tests on the pretrained ImageNet models are skipped`)
}

/** A class logit of each shared model, and the flamingo class (130) where it is a logit layer. */
export const SHARED_TARGETS: { id: string; layer: string; channel: number }[] = [
  { id: 'googlenet_bvlc', layer: 'loss3/classifier', channel: 130 },
  { id: 'squeezenet1_1', layer: 'pool10', channel: 130 },
  { id: 'squeezenet1_1_graph', layer: 'pool10', channel: 130 },
  { id: 'mobilenet_v1_0.75_224', layer: 'conv_preds', channel: 130 },
  { id: 'darknet_tiny', layer: 'global_average_pooling2d_1', channel: 130 },
]
