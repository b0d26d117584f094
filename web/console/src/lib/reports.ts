/**
 * The campaign summary (活动总结) as the gateway answers it
 * (`GET /v1/reports/summary`), and the pure functions the 驾驶舱 and the
 * summary page lay it out with. The dashboard reads its figures from this
 * one report, never recomputing them, so they cannot differ from the 活动总结.
 */
import { api, send, type paths } from '@zoufang/shared'
import { regionCodeOfScope } from '@zoufang/shared'
import { withQuery } from './download'

export type Summary = paths['/v1/reports/summary']['get']['responses'][200]['content']['application/json']
export type SummaryRow = Summary['rows'][number]
export type LedgerFigures = Summary['ledger']

/** The summary of a township or a county (12-digit code) for a campaign. */
export function fetchSummary(regionCode: string, campaignId: string, signal?: AbortSignal): Promise<Summary> {
  return send<Summary>('/v1/reports/summary', () =>
    api().GET('/v1/reports/summary', {
      params: { query: { region_code: regionCode, campaign_id: campaignId } },
      signal,
    }) as never,
  )
}

/** Where a summary is downloaded in another format. */
export function summaryUrl(regionCode: string, campaignId: string, format: 'md' | 'html' | 'xlsx' | 'json'): string {
  return withQuery('/v1/reports/summary', { region_code: regionCode, campaign_id: campaignId, format })
}

/** A report's region for a session scope: the county or township it names (villages have no summary). */
export function reportRegionOfScope(scope: string): string {
  const s = scope.length > 9 ? scope.slice(0, 9) : scope
  return regionCodeOfScope(s)
}

/** Basis points as a percentage with two decimals, as the summary writes it: 8830 → "88.30%"; null → "—". */
export function pct(bp: number | null | undefined): string {
  if (bp === null || bp === undefined) return '—'
  const n = Math.trunc(bp)
  return `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, '0')}%`
}

/** An int64 figure (a number, or a string from proto JSON) as a number. */
export function num(v: number | string | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0
  const n = Number(v)
  return Number.isFinite(n) ? n : 0
}

/** Fen as yuan with two decimals and thousands separators. */
export function yuan(fen: number | string | null | undefined): string {
  const n = num(fen)
  const neg = n < 0
  const a = Math.abs(n)
  const y = Math.trunc(a / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${neg ? '-' : ''}${y}.${String(a % 100).padStart(2, '0')}`
}

/** The steps of the ledger funnel, in the order the campaign reads them. */
export function funnelSteps(l: LedgerFigures): { key: string; label: string; value: number }[] {
  return [
    { key: 'collected', label: '收集事项', value: num(l.collected) },
    { key: 'resolved_on_spot', label: '当场解决', value: num(l.resolved_on_spot) },
    { key: 'resolved_in_time', label: '按期办结', value: num(l.resolved_in_time) },
    { key: 'resolved_late', label: '逾期办结', value: num(l.resolved_late) },
    { key: 'overdue', label: '逾期未办', value: num(l.overdue) },
  ]
}

/** One unit's place in the outcome ranking. */
export interface OutcomeRank {
  code: string
  name: string
  resolution_rate_bp: number | null
  resolution_rank: number
  satisfaction_rate_bp: number | null
  satisfaction_rank: number
  collected: number
  closed: number
  callbacks_done: number
}

/**
 * Competition ranks (1, 2, 2, 4) of rates, higher first; units without a
 * rate (nothing to rate) come last and share the last rank — the rule of
 * the gateway's county ranking.
 */
export function competitionRanks(values: (number | null)[]): number[] {
  return values.map((v) => {
    if (v === null) return 1 + values.filter((o) => o !== null).length
    return 1 + values.filter((o) => o !== null && o > v).length
  })
}

/**
 * Units ranked by OUTCOMES only: 办结率 (closed / collected), then
 * satisfaction of the callbacks. Never by visits, check-ins, points or time
 * online (2023 central guidance against 指尖上的形式主义).
 */
export function rankByOutcomes(rows: SummaryRow[]): OutcomeRank[] {
  const res = rows.map((r) => r.ledger.resolution_rate_bp ?? null)
  // No callback done: no satisfaction to rank.
  const sat = rows.map((r) => (num(r.callbacks.done) > 0 ? r.callbacks.satisfaction_rate_bp : null))
  const rr = competitionRanks(res)
  const sr = competitionRanks(sat)
  return rows
    .map((r, i) => ({
      code: r.code,
      name: r.name,
      resolution_rate_bp: res[i]!,
      resolution_rank: rr[i]!,
      satisfaction_rate_bp: sat[i]!,
      satisfaction_rank: sr[i]!,
      collected: num(r.ledger.collected),
      closed: num(r.ledger.closed),
      callbacks_done: num(r.callbacks.done),
    }))
    .sort(
      (a, b) =>
        a.resolution_rank - b.resolution_rank ||
        a.satisfaction_rank - b.satisfaction_rank ||
        a.code.localeCompare(b.code),
    )
}

/** The buckets of time left on a petition's statutory clock. */
export const CLOCK_BUCKETS = [
  { key: 'overdue', label: '已超期', color: '#f56c6c' },
  { key: 'd3', label: '3天内到期', color: '#e6a23c' },
  { key: 'd7', label: '4–7天', color: '#f3d19e' },
  { key: 'd15', label: '8–15天', color: '#95d475' },
  { key: 'd30', label: '16–30天', color: '#67c23a' },
  { key: 'more', label: '30天以上', color: '#409eff' },
  { key: 'none', label: '未起算', color: '#c0c4cc' },
] as const

export type ClockBucket = (typeof CLOCK_BUCKETS)[number]['key']

/** The bucket of a case by whole Beijing days left (null: no clock running). */
export function clockBucket(daysLeft: number | null): ClockBucket {
  if (daysLeft === null) return 'none'
  if (daysLeft < 0) return 'overdue'
  if (daysLeft <= 3) return 'd3'
  if (daysLeft <= 7) return 'd7'
  if (daysLeft <= 15) return 'd15'
  if (daysLeft <= 30) return 'd30'
  return 'more'
}

/** Counts per bucket, in bucket order. */
export function countBuckets(days: (number | null)[]): Record<ClockBucket, number> {
  const out = Object.fromEntries(CLOCK_BUCKETS.map((b) => [b.key, 0])) as Record<ClockBucket, number>
  for (const d of days) out[clockBucket(d)]++
  return out
}

/**
 * Visits per Beijing day from `start` to `end` inclusive (YYYY-MM-DD),
 * every day present (0 when none), from the visits' start instants.
 */
export function visitsPerDay(startedAt: string[], start: string, end: string): { day: string; visits: number }[] {
  const counts = new Map<string, number>()
  for (const t of startedAt) {
    const d = new Date(t)
    if (Number.isNaN(d.getTime())) continue
    const day = new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
    counts.set(day, (counts.get(day) ?? 0) + 1)
  }
  const out: { day: string; visits: number }[] = []
  const cur = new Date(`${start}T00:00:00Z`)
  const last = new Date(`${end}T00:00:00Z`)
  for (let i = 0; cur <= last && i < 800; i++) {
    const day = cur.toISOString().slice(0, 10)
    out.push({ day, visits: counts.get(day) ?? 0 })
    cur.setUTCDate(cur.getUTCDate() + 1)
  }
  return out
}
