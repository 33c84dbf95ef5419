import { describe, expect, it } from 'vitest'
import { learningRate, predictedProgress } from '../../src/engine/lr-policies.ts'

describe('lr policies (DVT GO L289-307)', () => {
  it('constant returns lr whatever the gradient', () => {
    expect(learningRate('constant', { lr: 100 }, { gradNormSq: 1e-9, obj: 3 })).toBe(100)
  })
  it('progress moves the objective by desired_prog under a linear model', () => {
    const lr = learningRate('progress', { max_lr: 1e8, desired_prog: 2 }, { gradNormSq: 0.5, obj: 0 })
    expect(lr).toBe(4)
    expect(predictedProgress(lr, 0.5)).toBe(2)
  })
  it('progress is capped at max_lr', () => {
    expect(learningRate('progress', { max_lr: 100, desired_prog: 2 }, { gradNormSq: 1e-6, obj: 0 })).toBe(100)
  })
  it('progress01 uses min(early_prog, late_prog_mult * (1 - obj)) / ||g||^2, capped', () => {
    const p = { max_lr: 1e6, early_prog: 0.2, late_prog_mult: 0.5 }
    // obj 0.1: late = 0.45 > early 0.2 -> 0.2 / 0.01
    expect(learningRate('progress01', p, { gradNormSq: 0.01, obj: 0.1 })).toBeCloseTo(20, 10)
    // obj 0.9: late = 0.05 < early -> 0.05 / 0.01
    expect(learningRate('progress01', p, { gradNormSq: 0.01, obj: 0.9 })).toBeCloseTo(5, 10)
    expect(learningRate('progress01', { ...p, max_lr: 3 }, { gradNormSq: 0.01, obj: 0.1 })).toBe(3)
  })
})
