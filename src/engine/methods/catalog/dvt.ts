/** DVT's method (Yosinski et al. 2015): its own loop (optimize.ts, optimize-batch.ts) and composable regularizers (dvt-regularizers.ts). */
import type { DvtMethod } from '../method.ts'

export const dvt: DvtMethod = {
  name: 'dvt',
  family: 'dvt',
  source: 'Yosinski et al. 2015, yosinski/deep-visualization-toolbox optimize_image.py',
  summary: 'dvt (Yosinski et al. 2015, the default)',
}
