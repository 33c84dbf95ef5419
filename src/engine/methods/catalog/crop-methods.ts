/**
 * The crop methods (maco-step.ts: seeded crops of a canvas, NAdam): maco (Fel et al. 2023, deel-ai/xplique) and
 * feature accentuation (Hamblin et al. 2024, serre-lab/Horama), which starts from a seed image.
 */
import { check } from '../../../shared/errors.ts'
import { createMaco } from '../maco-step.ts'
import { createAccentuation } from '../accentuation.ts'
import type { GeneralMethod } from '../method.ts'

/** The crop keys both read. */
const CROP_KEYS = ['crops', 'box_start', 'box_end', 'box_sd', 'centre_sd', 'noise', 'canvas_scale'] as const

export const maco: GeneralMethod = {
  name: 'maco',
  family: 'general',
  source: 'Fel et al. 2023, deel-ai/xplique maco',
  summary: 'maco (Fel et al. 2023: phase-only Fourier image, crops, NAdam)',
  reads: CROP_KEYS,
  create(ctx) {
    check(ctx.spectrum !== undefined, () => 'method maco needs the natural-image spectrum (the CLI reads resources/maco/natural-spectrum.npy)')
    const crop = createMaco(ctx.params, ctx.n, ctx.size, ctx.spectrum!, ctx.rng, ctx.alpha, ctx.objectiveOfCrops)
    return { param: crop.param, step: (ii) => crop.step(ii) }
  },
}

export const accentuation: GeneralMethod = {
  name: 'accentuation',
  family: 'general',
  source: 'Hamblin et al. 2024, serre-lab/Horama feature_accentuation',
  summary: 'accentuation (Hamblin et al. 2024: from --image)',
  reads: [...CROP_KEYS, 'image', 'image_weight'],
  create(ctx) {
    check(ctx.seedImage !== undefined, () => 'method accentuation needs a seed image (the CLI\'s --image FILE)')
    const crop = createAccentuation(ctx.params, ctx.n, ctx.size, ctx.seedImage!, ctx.rng, ctx.alpha, ctx.objectiveOfCrops)
    return { param: crop.param, step: (ii) => crop.step(ii) }
  },
}
