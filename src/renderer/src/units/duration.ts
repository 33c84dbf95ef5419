/**
 * A duration as people say it, rounded to what matters: "40 s", "3 min", "1 h 10 min".
 * Shape: `formatDuration(ms) => string`
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${Math.max(1, s)} s`
  const min = Math.round(s / 60)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  const rest = min - h * 60
  return rest ? `${h} h ${rest} min` : `${h} h`
}
