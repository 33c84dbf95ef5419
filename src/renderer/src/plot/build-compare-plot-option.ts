/**
 * The echarts option of one compare-view column's objective plot, and the axis ranges all columns
 * share so that their plots can be read side by side: x from 0 to the largest iteration count, y over
 * every column's objective values (padded). Pure functions, testable without a canvas.
 * The y axis can also be each column's own (`'column'`: curves of very different scales, such as DVT's
 * logit and lucid's channel mean, each fill their plot) or normalized (`'normalized'`: every objective
 * divided by its own largest |value|, on one shared -1..1-ish axis, to compare shapes).
 * Shape: `sharedPlotRange(traces, maxIters) => PlotRange`; `columnPlots(traces, maxIters, mode) => { range, trace }[]`;
 *   `buildComparePlotOption(trace, range) => EChartsCoreOption`
 */
import type { EChartsCoreOption } from 'echarts/core'
import type { RunTrace } from '../stores/run'

/** echarts group id of the compare plots (connected: one axis pointer and tooltip for all). */
export const COMPARE_PLOT_GROUP = 'deepvis-compare'
/** Fraction of the objective's span added above and below, so lines do not touch the frame. */
const Y_PADDING_FRACTION = 0.05
/** Half-height of the y range when every value is equal. */
const FLAT_Y_HALF_RANGE = 1
/** About this many y intervals per plot. */
const Y_TICK_COUNT = 4
/** Mantissas of readable tick intervals (1, 2, 2.5, 5 times a power of ten). */
const NICE_MANTISSAS = [1, 2, 2.5, 5, 10]
const OBJ_COLOR = '#2f6fb2'

/** Axis ranges shared by every column's plot; y bounds are null until some column has data. */
export interface PlotRange {
  xMax: number
  yMin: number | null
  yMax: number | null
  /** Distance between y ticks (yMin and yMax are multiples of it), or null with the bounds. */
  yInterval: number | null
}

/** The smallest readable interval (1, 2, 2.5 or 5 × 10^k) of at least `raw`. */
function niceInterval(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const mantissa = NICE_MANTISSAS.find((m) => m * magnitude >= raw) ?? 10
  return mantissa * magnitude
}

/**
 * The x range covers the longest run (`max(maxIters) - 1`, the last iteration index); the y range
 * covers every finite objective value of every trace, padded by 5 % of its span and rounded outward to
 * a readable tick interval.
 * @example sharedPlotRange([a.trace, b.trace], [500, 1000]) // { xMax: 999, yMin: …, yMax: … }
 */
export function sharedPlotRange(traces: readonly RunTrace[], maxIters: readonly number[]): PlotRange {
  let lo = Infinity
  let hi = -Infinity
  let lastIi = 0
  for (const t of traces) {
    for (const v of t.obj) {
      if (!Number.isFinite(v)) continue
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    if (t.ii.length > 0) lastIi = Math.max(lastIi, t.ii[t.ii.length - 1])
  }
  const xMax = Math.max(1, lastIi, ...maxIters.map((n) => n - 1))
  if (lo > hi) return { xMax, yMin: null, yMax: null, yInterval: null }
  const pad = hi > lo ? (hi - lo) * Y_PADDING_FRACTION : FLAT_Y_HALF_RANGE
  // Round outward to a readable tick interval, so the axis starts and ends on a tick.
  const step = niceInterval((hi - lo + 2 * pad) / Y_TICK_COUNT)
  const round = (v: number): number => Number(v.toPrecision(12))
  return { xMax, yMin: round(Math.floor((lo - pad) / step) * step), yMax: round(Math.ceil((hi + pad) / step) * step), yInterval: step }
}

/** How the compare plots' y axes are set. */
export type AxisMode = 'column' | 'shared' | 'normalized'
export const AXIS_MODES: readonly { id: AxisMode; label: string; help: string }[] = [
  { id: 'column', label: 'own axis', help: 'Each column its own y axis: every curve fills its plot' },
  { id: 'shared', label: 'shared axis', help: 'One y axis for every column: absolute objectives side by side' },
  { id: 'normalized', label: 'normalized', help: 'Each objective divided by its largest |value|, on one shared axis: compare the shapes' },
]

/** A trace with its objective divided by its largest finite |value| (unchanged when that is 0). */
export function normalizeTrace(trace: RunTrace): RunTrace {
  let peak = 0
  for (const v of trace.obj) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v))
  return peak > 0 ? { ...trace, obj: trace.obj.map((v) => v / peak) } : trace
}

/**
 * Each column's plot: the trace to draw and its axis ranges. x is always shared (iterations line up);
 * y per `mode`.
 */
export function columnPlots(traces: readonly RunTrace[], maxIters: readonly number[], mode: AxisMode): { range: PlotRange; trace: RunTrace }[] {
  const shown = mode === 'normalized' ? traces.map(normalizeTrace) : [...traces]
  const shared = sharedPlotRange(shown, maxIters)
  return shown.map((trace, i) => {
    if (mode !== 'column') return { range: shared, trace }
    const own = sharedPlotRange([trace], [maxIters[i] ?? 1])
    return { range: { ...own, xMax: shared.xMax }, trace }
  })
}

/** Tooltip of the axis pointer: "it 23 · obj 1.271" (params: echarts' axis-tooltip items). */
export function tooltipText(params: unknown): string {
  const first = (Array.isArray(params) ? params[0] : params) as { value?: unknown } | undefined
  const value = first?.value
  if (!Array.isArray(value) || typeof value[0] !== 'number' || typeof value[1] !== 'number') return ''
  return `it ${value[0]} · obj ${value[1].toPrecision(4)}`
}

function tick(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3)))
}

/**
 * One column's plot: its objective per iteration on the shared ranges, with an axis tooltip that
 * connected plots show together.
 * @example chart.setOption(buildComparePlotOption(column.run.trace, range))
 */
export function buildComparePlotOption(trace: RunTrace, range: PlotRange): EChartsCoreOption {
  return {
    animation: false,
    grid: { left: 46, right: 10, top: 12, bottom: 34 },
    // richText: drawn on the canvas. The default HTML tooltip writes style attributes, which the CSP blocks.
    tooltip: { trigger: 'axis', renderMode: 'richText', formatter: tooltipText },
    xAxis: {
      type: 'value', name: 'iteration', nameLocation: 'middle', nameGap: 20, min: 0, max: range.xMax, minInterval: 1,
      axisLabel: { fontSize: 9, hideOverlap: true },
    },
    yAxis: {
      type: 'value', min: range.yMin ?? undefined, max: range.yMax ?? undefined, interval: range.yInterval ?? undefined, scale: true,
      axisLabel: { fontSize: 9, formatter: tick, hideOverlap: true },
    },
    series: [{
      name: 'obj', type: 'line', showSymbol: false, animation: false, color: OBJ_COLOR, lineStyle: { width: 1.6 },
      data: trace.obj.map((y, i) => [trace.ii[i], y]),
    }],
  }
}
