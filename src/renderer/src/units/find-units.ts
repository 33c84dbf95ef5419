/**
 * Finding a unit by what a researcher knows about it: its index ("130", "#130") or words of its class
 * label ("flamingo", "tabby cat"). Label matches are ranked: the whole label or one of its
 * comma-separated names equal to the query first, then names starting with it, then any substring.
 * Shape: `findUnits(query, labels, count, limit?) => { index, label }[]`
 */

export interface UnitMatch {
  index: number
  label: string | null
}

/**
 * Units of a layer with `count` units and `labels` (label[i] of unit i, may be empty) matching `query`.
 * @example findUnits('flamingo', imagenetLabels, 1000) // [{ index: 130, label: 'flamingo' }]
 * @example findUnits('#7', [], 64) // [{ index: 7, label: null }]
 */
export function findUnits(query: string, labels: readonly string[], count: number, limit = 12): UnitMatch[] {
  const q = query.trim().toLowerCase()
  if (!q || count <= 0) return []
  const asIndex = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : null
  const out: UnitMatch[] = []
  if (asIndex !== null && asIndex < count) out.push({ index: asIndex, label: labels[asIndex] ?? null })
  const ranked: { index: number; rank: number }[] = []
  for (let i = 0; i < Math.min(count, labels.length); i++) {
    const label = labels[i]?.toLowerCase()
    if (!label || !label.includes(q)) continue
    const names = label.split(',').map((n) => n.trim())
    const rank = label === q || names.includes(q) ? 0 : names.some((n) => n.startsWith(q) || n.split(/\s+/).some((w) => w.startsWith(q))) ? 1 : 2
    ranked.push({ index: i, rank })
  }
  ranked.sort((a, b) => a.rank - b.rank || a.index - b.index)
  for (const r of ranked) {
    if (out.length >= limit) break
    if (r.index !== asIndex) out.push({ index: r.index, label: labels[r.index] ?? null })
  }
  return out.slice(0, limit)
}
