/**
 * Thumbnail service (STUB, being implemented): renders a layer's units in the background with a quick
 * preset and caches the PNGs on disk per model.
 */
import { DeepVisError } from '../engine/errors.ts'
import type { ThumbRequest, UnitThumb } from '../shared/app-types.ts'
import type { Emit, RunEngine } from './run-service.ts'

export interface ThumbServiceOptions {
  /** Folder of the thumbnail cache (one sub-folder per model key). */
  cacheDir: string
  /** The loaded engine (its `modelKey` names the cache folder). */
  engine: () => Promise<RunEngine>
  /** Where `units:thumb` and `units:done` go. */
  emit: Emit
}

export interface ThumbService {
  render(req: ThumbRequest): Promise<{ jobId: string; total: number; cached: number }>
  cancel(jobId: string): void
  thumbs(layer: string): Promise<UnitThumb[]>
  whenIdle(): Promise<void>
  dispose(): void
}

export function createThumbService(_options: ThumbServiceOptions): ThumbService {
  const notYet = (): never => {
    throw new DeepVisError('INTERNAL', 'unit thumbnails are not implemented yet')
  }
  return { render: async () => notYet(), cancel: () => notYet(), thumbs: async () => notYet(), whenIdle: async () => undefined, dispose: () => undefined }
}
