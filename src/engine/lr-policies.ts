/**
 * Learning-rate policies, exactly as DVT (GO L289-307). ||g||^2 is summed over every gradient entry.
 * Shape: (policy, lr_params, {gradNormSq, obj}) => lr
 */
import type { LrParams, LrPolicy } from './params.ts'

export interface LrInputs {
  /** Squared Frobenius norm of the raw gradient over all entries. */
  gradNormSq: number
  /** Current objective (the raw activation); used by progress01. */
  obj: number
}

export function learningRate(policy: LrPolicy, params: LrParams, { gradNormSq, obj }: LrInputs): number {
  switch (policy) {
    case 'constant':
      return params.lr
    case 'progress':
      // First-order step that moves the objective by desired_prog, capped at max_lr.
      return Math.min(params.max_lr, params.desired_prog / gradNormSq)
    case 'progress01': {
      // For [0, 1] outputs (softmax): slow down as obj approaches 1.
      const late = params.late_prog_mult * (1 - obj)
      const desired = Math.min(params.early_prog, late)
      return Math.min(params.max_lr, desired / gradNormSq)
    }
  }
}

/** Objective change predicted by a first-order model for this lr (DVT prints it under `progress`). */
export function predictedProgress(lr: number, gradNormSq: number): number {
  return lr * gradNormSq
}
