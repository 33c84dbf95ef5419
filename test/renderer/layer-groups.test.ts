// @vitest-environment happy-dom
/**
 * Layer groups on a GoogLeNet-shaped graph (the node names and types of ../shared/models/googlenet_bvlc):
 * one main row per block (conv1/relu_7x7, inception_3a/output, loss3/classifier, prob), the branch ReLUs
 * and pools inside a block, and the plumbing (Pad, the Conv2D under its BiasAdd, the BiasAdd under its
 * ReLU, LRN, reshape, /pre_relu) hidden; and the LayerBrowser showing exactly that, with the block's
 * units one click away and everything with "all graph nodes".
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import LayerBrowser from '../../src/renderer/src/components/LayerBrowser.vue'
import { classifyLayers, groupLayers } from '../../src/renderer/src/layers/layer-groups'
import type { LayerInfo } from '../../src/shared/ipc-contract'

const L = (name: string, type: string, shape: number[]): LayerInfo => ({ name, type, shape, units: shape[shape.length - 1] })
const GOOGLENET: LayerInfo[] = [
  L('conv1/7x7_s2/pad', 'Pad', [230, 230, 3]),
  L('conv1/7x7_s2/conv', 'Conv2D', [112, 112, 64]),
  L('conv1/7x7_s2', 'BiasAdd', [112, 112, 64]),
  L('conv1/relu_7x7', 'Relu', [112, 112, 64]),
  L('conv1/relu_7x7/pre_relu', 'Relu (pre-activation)', [112, 112, 64]),
  L('pool1/3x3_s2', 'MaxPool', [56, 56, 64]),
  L('pool1/norm1', 'LRN', [56, 56, 64]),
  L('inception_3a/1x1/conv', 'Conv2D', [28, 28, 64]),
  L('inception_3a/1x1', 'BiasAdd', [28, 28, 64]),
  L('inception_3a/relu_1x1', 'Relu', [28, 28, 64]),
  L('inception_3a/relu_1x1/pre_relu', 'Relu (pre-activation)', [28, 28, 64]),
  L('inception_3a/pool', 'MaxPool', [28, 28, 192]),
  L('inception_3a/output', 'ConcatV2', [28, 28, 256]),
  L('pool5/7x7_s1', 'AvgPool', [1, 1, 1024]),
  L('loss3/classifier/flatten', 'Reshape', [1024]),
  { ...L('loss3/classifier/matmul', 'MatMul', [1000]), labels: ['a'] },
  { ...L('loss3/classifier', 'BiasAdd', [1000]), labels: ['a'] },
  { ...L('prob', 'Softmax', [1000]), labels: ['a'] },
]

describe('layer groups', () => {
  it('gives each GoogLeNet node its block and role', () => {
    const roles = Object.fromEntries(classifyLayers(GOOGLENET).map((r) => [r.layer.name, r.role]))
    expect(roles).toEqual({
      'conv1/7x7_s2/pad': 'plumbing', 'conv1/7x7_s2/conv': 'plumbing', 'conv1/7x7_s2': 'plumbing', 'conv1/relu_7x7': 'main',
      'conv1/relu_7x7/pre_relu': 'plumbing', 'pool1/3x3_s2': 'main', 'pool1/norm1': 'plumbing',
      'inception_3a/1x1/conv': 'plumbing', 'inception_3a/1x1': 'plumbing', 'inception_3a/relu_1x1': 'inner',
      'inception_3a/relu_1x1/pre_relu': 'plumbing', 'inception_3a/pool': 'inner', 'inception_3a/output': 'main',
      'pool5/7x7_s1': 'main', 'loss3/classifier/flatten': 'plumbing', 'loss3/classifier/matmul': 'plumbing',
      'loss3/classifier': 'main', prob: 'main',
    })
    expect(groupLayers(GOOGLENET).map((g) => g.name)).toEqual(['conv1', 'pool1', 'inception_3a', 'pool5', 'loss3', 'prob'])
  })

  it('keeps every layer of a small sequential model (only its /pre_relu views are hidden)', () => {
    const small = [L('conv1', 'Conv2D', [64, 64, 16]), L('conv1/pre_relu', 'Conv2D (pre-activation)', [64, 64, 16]), L('pool1', 'MaxPooling2D', [32, 32, 16]), L('logits', 'Dense', [10])]
    expect(classifyLayers(small).map((r) => r.role)).toEqual(['main', 'plumbing', 'main', 'main'])
  })

  it('LayerBrowser: one row per block with full names, the block units behind ▸, the rest behind "all graph nodes"', async () => {
    const w = mount(LayerBrowser, { props: { layers: GOOGLENET, selected: null } })
    const names = () => w.findAll('[role="option"] .name').map((n) => n.text())
    expect(names()).toEqual(['conv1/relu_7x7', 'pool1/3x3_s2', 'inception_3a/output', 'pool5/7x7_s1', 'loss3/classifier', 'prob'])
    expect(w.text()).toContain(`6 of ${GOOGLENET.length}`)
    await w.find('.layer-browser__expand').trigger('click')
    expect(names()).toEqual(['conv1/relu_7x7', 'pool1/3x3_s2', 'inception_3a/output', 'inception_3a/relu_1x1', 'inception_3a/pool', 'pool5/7x7_s1', 'loss3/classifier', 'prob'])
    await w.find('[data-testid="layers-all"]').setValue(true)
    expect(names()).toHaveLength(GOOGLENET.length)
    // The filter searches every node.
    await w.find('[data-testid="layers-all"]').setValue(false)
    await w.find('input[type="search"]').setValue('pre_relu')
    expect(names()).toEqual(['conv1/relu_7x7/pre_relu', 'inception_3a/relu_1x1/pre_relu'])
    w.unmount()
  })

  it('always shows the selected layer, even a hidden one', () => {
    const w = mount(LayerBrowser, { props: { layers: GOOGLENET, selected: 'inception_3a/relu_1x1/pre_relu' } })
    const names = w.findAll('[role="option"] .name').map((n) => n.text())
    expect(names).toContain('inception_3a/relu_1x1/pre_relu')
    expect(w.find('[aria-selected="true"] .name').text()).toBe('inception_3a/relu_1x1/pre_relu')
    w.unmount()
  })
})
