// @vitest-environment happy-dom
/**
 * ActivationGrid: one tile per unit, the strongest three framed, a click selects the unit, hovering
 * reads the dequantized value (exact for dense units); and the page-side pixel helpers (RGBA -> RGB,
 * base64 in chunks) give what the engine's schema expects.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import ActivationGrid from '../../src/renderer/src/components/ActivationGrid.vue'
import { bytesToBase64, rgbaToRgb } from '../../src/renderer/src/live/image-pixels'
import type { LiveActivations } from '../../src/shared/live-types'

/** A 2x2x4 conv layer: unit c's map is [0, 1, 2, 3] * (c + 1), quantized per unit. */
function conv(): LiveActivations {
  const bytes = new Uint8Array(16)
  for (let c = 0; c < 4; c++) for (let p = 0; p < 4; p++) bytes[c * 4 + p] = Math.round((p / 3) * 255)
  return {
    layer: 'conv', shape: [2, 2, 4], min: [0, 0, 0, 0], max: [3, 6, 9, 12], mean: [1.5, 3, 4.5, 6],
    argmax: [1, 1, 1, 1, 1, 1, 1, 1], bytes: bytesToBase64(bytes), ms: 1,
  }
}

describe('ActivationGrid', () => {
  it('draws a tile per unit, frames the 3 strongest, selects on click', async () => {
    const w = mount(ActivationGrid, { props: { activations: conv(), selected: 0, scale: 'tile' } })
    const tiles = w.findAll('.tile')
    expect(tiles).toHaveLength(4)
    expect(w.findAll('.tile.is-strong').map((t) => t.attributes('data-unit'))).toEqual(['1', '2', '3'])
    expect(tiles[0].classes()).toContain('is-selected')
    await tiles[2].trigger('click')
    expect(w.emitted('select')).toEqual([[2]])
  })

  it('hover reads the value under the pointer (≈ for 8-bit conv maps, = for dense units)', async () => {
    const w = mount(ActivationGrid, { props: { activations: conv(), selected: 0, scale: 'shared' } })
    const tile = w.findAll('.tile')[3]
    Object.defineProperty(tile.element, 'clientWidth', { value: 40 })
    Object.defineProperty(tile.element, 'clientHeight', { value: 40 })
    await tile.trigger('mousemove', { offsetX: 30, offsetY: 30 })
    expect(w.find('[data-testid="grid-hover"]').text()).toMatch(/unit 3 at \(y 1, x 1\) ≈ 12\.00 \(max 12\.00\)/)
    const dense: LiveActivations = { layer: 'fc', shape: [3], min: [1, -2, 0.5], max: [1, -2, 0.5], mean: [1, -2, 0.5], argmax: [0, 0, 0, 0, 0, 0], values: [1, -2, 0.5], ms: 1 }
    const d = mount(ActivationGrid, { props: { activations: dense, selected: 1, scale: 'tile', labels: ['a', 'b', 'c'] } })
    await d.findAll('.tile')[1].trigger('mousemove', { offsetX: 1, offsetY: 1 })
    expect(d.find('[data-testid="grid-hover"]').text()).toMatch(/unit 1 "b" = -2\.000/)
    expect(d.findAll('.tile.is-strong').map((t) => t.attributes('data-unit'))).toEqual(['0', '1', '2']) // DOM order; all three are the strongest 3
  })
})

describe('page-side pixels', () => {
  it('RGBA to RGB drops alpha; base64 in chunks equals the one-shot encoding', () => {
    expect(Array.from(rgbaToRgb(Uint8ClampedArray.from([1, 2, 3, 255, 4, 5, 6, 0])))).toEqual([1, 2, 3, 4, 5, 6])
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256)
    const back = Uint8Array.from(atob(bytesToBase64(big)), (ch) => ch.charCodeAt(0))
    expect(back).toEqual(big)
    expect(bytesToBase64(Uint8Array.from([1, 2, 3, 4]))).toBe('AQIDBA==')
  })
})
