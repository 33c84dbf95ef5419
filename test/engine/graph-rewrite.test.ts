import { describe, expect, it } from 'vitest'
import { unfuseGraph, type GraphTopology } from '../../src/engine/model/graph-rewrite.ts'

const b64 = (s: string): string => btoa(s)

function fusedConv(name: string, ops: string[], extraInputs: string[]): GraphTopology {
  return {
    node: [
      { name: 'x', op: 'Placeholder' },
      { name: 'w', op: 'Const' },
      { name: 'b', op: 'Const' },
      {
        name, op: '_FusedConv2D', input: ['x', 'w', ...extraInputs],
        attr: { strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, T: { type: 'DT_FLOAT' }, fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: String(extraInputs.length) }, epsilon: { f: 0 } },
      },
      { name: 'next', op: 'MaxPool', input: [name] },
    ],
    versions: { producer: 1 },
  }
}

describe('unfuseGraph', () => {
  it('splits _FusedConv2D(BiasAdd, Relu) into Conv2D -> BiasAdd -> Relu, keeping the name on the last node', () => {
    const { topology, rewritten } = unfuseGraph(fusedConv('conv1', ['BiasAdd', 'Relu'], ['b']))
    expect(rewritten).toEqual(['conv1'])
    const ops = topology.node.map((n) => `${n.name}:${n.op}`)
    expect(ops).toEqual(['x:Placeholder', 'w:Const', 'b:Const', 'conv1/__plain:Conv2D', 'conv1/__bias:BiasAdd', 'conv1:Relu', 'next:MaxPool'])
    const conv = topology.node[3]
    expect(conv.input).toEqual(['x', 'w'])
    expect(Object.keys(conv.attr!)).not.toContain('fused_ops')
    expect(conv.attr!.padding).toEqual({ s: b64('SAME') })
    expect(topology.node[4].input).toEqual(['conv1/__plain', 'b'])
    expect(topology.versions).toEqual({ producer: 1 })
  })
  it('a linear fused conv becomes Conv2D -> BiasAdd named like the original', () => {
    const { topology } = unfuseGraph(fusedConv('c', ['BiasAdd'], ['b']))
    expect(topology.node.map((n) => `${n.name}:${n.op}`)).toContain('c:BiasAdd')
  })
  it('leaves nodes with fused ops it does not understand untouched', () => {
    const original = fusedConv('c', ['FusedBatchNorm', 'Relu'], ['b'])
    const { topology, rewritten } = unfuseGraph(original)
    expect(rewritten).toEqual([])
    expect(topology.node.find((n) => n.name === 'c')!.op).toBe('_FusedConv2D')
  })
  it('does not modify its input', () => {
    const original = fusedConv('conv1', ['BiasAdd', 'Relu'], ['b'])
    const copy = JSON.parse(JSON.stringify(original))
    unfuseGraph(original)
    expect(original).toEqual(copy)
  })
})
