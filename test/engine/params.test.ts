import { describe, expect, it } from 'vitest'
import { PRESETS, getPreset, parseLrParams, resolveParams } from '../../src/engine/params.ts'

const base = { push_layer: 'fc8', push_channel: 130 }

describe('parseLrParams', () => {
  it('accepts the Python-dict spelling of the DVT docs', () => {
    expect(parseLrParams("{'lr': 100.0}")).toEqual({ lr: 100 })
    expect(parseLrParams("{'max_lr': 100000000, 'desired_prog': 2.0}")).toEqual({ max_lr: 1e8, desired_prog: 2 })
  })
  it('accepts JSON', () => {
    expect(parseLrParams('{"max_lr": 1e8, "desired_prog": 2}')).toEqual({ max_lr: 1e8, desired_prog: 2 })
  })
  it('never evaluates code and names the bad text', () => {
    expect(() => parseLrParams("{'lr': __import__('os').getcwd()}")).toThrow(/cannot parse --lr-params/)
    expect(() => parseLrParams('{lr: 1')).toThrow(/cannot parse --lr-params "\{lr: 1"/)
    expect(() => parseLrParams("{'lr': 'fast'}")).toThrow(/'lr' must be a finite number/)
    expect(() => parseLrParams('[1, 2]')).toThrow(/must be a dict/)
  })
})

describe('resolveParams', () => {
  it("fills DVT's CLI defaults", () => {
    const p = resolveParams(base)
    expect(p).toMatchObject({ start_at: 'mean_plus_rand', rand_seed: 0, push_dir: 1, decay: 0, lr_policy: 'constant', lr_params: { lr: 1 }, max_iter: 500, push_spatial: null })
  })
  it('requires exactly the lr keys of the policy', () => {
    expect(() => resolveParams({ ...base, lr_policy: 'progress', lr_params: { lr: 1 } })).toThrow(/requires lr_params keys max_lr, desired_prog; missing 'max_lr'/)
    expect(() => resolveParams({ ...base, lr_policy: 'constant', lr_params: { lr: 1, max_lr: 3 } })).toThrow(/'max_lr' is not used by lr_policy 'constant'/)
    expect(resolveParams({ ...base, lr_policy: 'progress01', lr_params: { max_lr: 1, early_prog: 0.1, late_prog_mult: 0.2 } }).lr_policy).toBe('progress01')
  })
  it.each([
    [{ decay: 1.5 }, /decay must be in \[0, 1\]/],
    [{ small_norm_percentile: 120 }, /small_norm_percentile must be in \[0, 100\]/],
    [{ push_dir: 0 }, /push_dir must be a non-zero/],
    [{ max_iter: 0 }, /max_iter must be an integer >= 1/],
    [{ blur_every: 1.5 }, /blur_every must be a non-negative integer/],
    [{ rand_seed: -1 }, /rand_seed/],
  ])('rejects %o', (bad, msg) => {
    expect(() => resolveParams({ ...base, ...bad })).toThrow(msg)
  })
})

describe('presets (Yosinski et al. 2015, Table 1)', () => {
  it('has the four rows with the published values', () => {
    expect(PRESETS['yosinski-1'].params).toMatchObject({ decay: 0, blur_radius: 0.5, blur_every: 4, small_norm_percentile: 50, max_iter: 500, lr_policy: 'progress', lr_params: { max_lr: 100, desired_prog: 2 } })
    expect(PRESETS['yosinski-2'].params).toMatchObject({ decay: 0.3, blur_radius: 0, blur_every: 0, small_norm_percentile: 20, max_iter: 750, lr_policy: 'constant', lr_params: { lr: 100 } })
    expect(PRESETS['yosinski-3'].params).toMatchObject({ decay: 0.0001, blur_radius: 1, blur_every: 4, max_iter: 1000, lr_policy: 'constant', lr_params: { lr: 100 } })
    expect(PRESETS['yosinski-4'].params).toMatchObject({ decay: 0, blur_radius: 0.5, blur_every: 4, px_abs_benefit_percentile: 90, max_iter: 1000, lr_policy: 'progress', lr_params: { max_lr: 1e8, desired_prog: 2 } })
    for (const name of Object.keys(PRESETS)) expect(() => resolveParams({ ...base, ...PRESETS[name].params })).not.toThrow()
  })
  it('an unknown preset lists the available ones', () => {
    expect(() => getPreset('yosinski-5')).toThrow(/unknown preset 'yosinski-5'; available: yosinski-1, yosinski-2, yosinski-3, yosinski-4/)
  })
})
