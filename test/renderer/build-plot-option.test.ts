/**
 * buildPlotOption: the objective on the left axis, norm/std/lr on the right, data as [ii, value].
 */
import { describe, expect, it } from 'vitest'
import { buildPlotOption } from '../../src/renderer/src/plot/build-plot-option'

describe('buildPlotOption', () => {
  it('puts obj on axis 0 and norm/std/lr on axis 1 with [ii, value] points', () => {
    const opt = buildPlotOption({ ii: [0, 1], obj: [1, 2], lr: [100, 100], norm: [5, 6], std: [1, 1] }) as {
      series: { name: string; yAxisIndex: number; data: [number, number][] }[]
      legend: { selected: Record<string, boolean> }
    }
    expect(opt.series.map((s) => [s.name, s.yAxisIndex])).toEqual([['obj', 0], ['norm', 1], ['std', 1], ['lr', 1]])
    expect(opt.series[0].data).toEqual([[0, 1], [1, 2]])
    expect(opt.legend.selected).toEqual({ std: false, lr: false })
  })

  it('handles an empty trace', () => {
    const opt = buildPlotOption({ ii: [], obj: [], lr: [], norm: [], std: [] }) as { series: { data: unknown[] }[] }
    expect(opt.series.every((s) => s.data.length === 0)).toBe(true)
  })
})

describe('objective plot tooltip', () => {
  it('is drawn on the canvas (richText): an HTML tooltip needs inline styles, which the CSP forbids', () => {
    const option = buildPlotOption({ ii: [0, 1], obj: [1, 2], norm: [1, 1], std: [1, 1], lr: [1, 1] } as never) as { tooltip: { renderMode?: string } }
    expect(option.tooltip.renderMode).toBe('richText')
  })
})
