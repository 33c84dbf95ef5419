/**
 * The echarts option of the objective plot, built from a run trace as a pure function (testable
 * without a canvas): the objective on the left axis; norm, std and lr on the right axis, toggled
 * from the legend (std and lr start hidden: lr can be orders of magnitude above norm and would flatten it).
 * Shape: `buildPlotOption(trace) => EChartsCoreOption`
 */
import type { EChartsCoreOption } from 'echarts/core'
import type { RunTrace } from '../stores/run'

/** Series names, as shown in the legend. */
export const PLOT_SERIES = ['obj', 'norm', 'std', 'lr'] as const

const COLORS = { obj: '#2f6fb2', norm: '#d07a1f', std: '#3d9a56', lr: '#8a55b8' }

/**
 * @example chart.setOption(buildPlotOption(runStore.trace))
 */
export function buildPlotOption(trace: RunTrace): EChartsCoreOption {
  const pairs = (ys: number[]): [number, number][] => ys.map((y, i) => [trace.ii[i], y])
  const line = (name: (typeof PLOT_SERIES)[number], axis: 0 | 1) => ({
    name,
    type: 'line',
    yAxisIndex: axis,
    showSymbol: false,
    animation: false,
    lineStyle: { width: name === 'obj' ? 2 : 1.2 },
    color: COLORS[name],
    data: pairs(trace[name]),
  })
  return {
    animation: false,
    grid: { left: 56, right: 56, top: 40, bottom: 30 },
    legend: { top: 0, left: 'center', itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 }, selected: { std: false, lr: false } },
    // Drawn on the canvas: echarts' HTML tooltip writes style attributes, which the CSP forbids.
    tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toPrecision(4) : String(v)) },
    xAxis: { type: 'value', name: 'iteration', nameLocation: 'middle', nameGap: 20, min: 0, minInterval: 1, axisLabel: { fontSize: 10 } },
    yAxis: [
      { type: 'value', name: 'obj', nameGap: 8, scale: true, nameTextStyle: { color: COLORS.obj }, axisLabel: { fontSize: 10 } },
      { type: 'value', name: 'norm / std / lr', nameGap: 8, scale: true, splitLine: { show: false }, axisLabel: { fontSize: 10 } },
    ],
    series: [line('obj', 0), line('norm', 1), line('std', 1), line('lr', 1)],
  }
}
