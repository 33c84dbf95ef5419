/**
 * An echarts line chart owned by a component: created on mount in the element `el` (from
 * `echarts/core` with only the line chart, grid, legend, tooltip and canvas renderer registered),
 * resized with its element, disposed on unmount. `setup` runs once on the new instance (set the
 * first option, join a connect group…).
 * Shape: `useEchart(el, setup) => ShallowRef<ECharts | null>`
 * @example const chart = useEchart(el, (c) => c.setOption(buildPlotOption(trace)))
 */
import { LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { init, use, type ECharts } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { onMounted, onUnmounted, shallowRef, type Ref, type ShallowRef } from 'vue'

use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export function useEchart(el: Ref<HTMLElement | null>, setup: (chart: ECharts) => void): ShallowRef<ECharts | null> {
  const chart = shallowRef<ECharts | null>(null)
  let resizeObserver: ResizeObserver | null = null
  onMounted(() => {
    if (!el.value) return
    const c = init(el.value)
    setup(c)
    chart.value = c
    if (typeof ResizeObserver !== 'undefined') {
      resizeObserver = new ResizeObserver(() => chart.value?.resize())
      resizeObserver.observe(el.value)
    }
  })
  onUnmounted(() => {
    resizeObserver?.disconnect()
    chart.value?.dispose()
    chart.value = null
  })
  return chart
}
