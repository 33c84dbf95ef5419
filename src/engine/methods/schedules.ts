/**
 * cnnpref's linear parameter schedules (KamitaniLab/cnnpref prefer_img_gd.py L197-200): a parameter
 * given as start → end takes v_t = start + t·(end − start)/iter_n at iteration t = 0 … iter_n − 1.
 * As in the original, the end value is never reached: the last value is end − (end − start)/iter_n.
 * Shape: (start, end, iterN) => values; (start, end, t, iterN) => value.
 */
import { check } from '../../shared/errors.ts'

function checkIterN(iterN: number): void {
  check(Number.isInteger(iterN) && iterN > 0, () => `schedule length iter_n must be a positive integer; got ${iterN}`)
}

/**
 * Value of a linear schedule at iteration t (0-based).
 * @example linearScheduleAt(2, 1e-10, 0, 200) // 2 (the start); at t = 199 it is 2 − 199·(2 − 1e-10)/200
 */
export function linearScheduleAt(start: number, end: number, t: number, iterN: number): number {
  checkIterN(iterN)
  check(Number.isInteger(t) && t >= 0 && t < iterN, () => `schedule iteration must be an integer in 0..${iterN - 1}; got ${t}`)
  check(Number.isFinite(start) && Number.isFinite(end), () => `schedule start and end must be finite; got ${start} → ${end}`)
  return start + (t * (end - start)) / iterN
}

/**
 * All iter_n values of a linear schedule.
 * @example linearSchedule(0, 1, 4) // [0, 0.25, 0.5, 0.75]: 1 is never reached, as in cnnpref
 */
export function linearSchedule(start: number, end: number, iterN: number): number[] {
  checkIterN(iterN)
  return Array.from({ length: iterN }, (_, t) => linearScheduleAt(start, end, t, iterN))
}
