import { describe, expect, it } from 'vitest'
import {
  clockBucket,
  competitionRanks,
  countBuckets,
  funnelSteps,
  num,
  pct,
  rankByOutcomes,
  reportRegionOfScope,
  summaryUrl,
  visitsPerDay,
  yuan,
  type SummaryRow,
} from '@/lib/reports'
import { dispositionName, withQuery } from '@/lib/download'

function row(code: string, name: string, collected: number, closed: number, resolution: number | null, satisfaction: number, done: number): SummaryRow {
  return {
    code,
    name,
    ledger: { collected, closed, resolution_rate_bp: resolution } as SummaryRow['ledger'],
    callbacks: { satisfaction_rate_bp: satisfaction, done } as SummaryRow['callbacks'],
    // Activity figures a ranking must ignore: the busiest township is last on outcomes.
    visits: { visits: code === 'c' ? 9999 : 1 } as SummaryRow['visits'],
    help: {} as SummaryRow['help'],
    materials: {} as SummaryRow['materials'],
  }
}

describe('the summary figures as the pages write them', () => {
  it('writes basis points as the report does', () => {
    expect(pct(8830)).toBe('88.30%')
    expect(pct(10000)).toBe('100.00%')
    expect(pct(5)).toBe('0.05%')
    expect(pct(null)).toBe('—')
    expect(num('2079')).toBe(2079)
    expect(num(undefined)).toBe(0)
    expect(yuan(6246100)).toBe('62,461.00')
    expect(yuan('5')).toBe('0.05')
  })

  it('lays the ledger funnel out in the campaign order', () => {
    const steps = funnelSteps({ collected: 534, resolved_on_spot: 108, resolved_in_time: 188, resolved_late: 3, overdue: 2 } as never)
    expect(steps.map((s) => s.label)).toEqual(['收集事项', '当场解决', '按期办结', '逾期办结', '逾期未办'])
    expect(steps.map((s) => s.value)).toEqual([534, 108, 188, 3, 2])
  })

  it('ranks by outcomes only, ties sharing a rank, no rate last', () => {
    expect(competitionRanks([8000, 9000, 8000, null])).toEqual([2, 1, 2, 4])
    const ranked = rankByOutcomes([
      row('c', '丙镇', 10, 5, 5000, 9000, 10),
      row('a', '甲镇', 10, 9, 9000, 8000, 10),
      row('b', '乙镇', 10, 9, 9000, 9500, 10),
      row('d', '丁镇', 0, 0, null, 0, 0),
    ])
    expect(ranked.map((r) => [r.name, r.resolution_rank, r.satisfaction_rank])).toEqual([
      ['乙镇', 1, 1],
      ['甲镇', 1, 3],
      ['丙镇', 3, 2],
      ['丁镇', 4, 4],
    ])
    // No callback done: no satisfaction shown.
    expect(ranked[3]!.satisfaction_rate_bp).toBeNull()
  })

  it('buckets petitions by days left on the statutory clock', () => {
    expect([-1, 0, 3, 4, 7, 8, 15, 16, 30, 31, null].map(clockBucket)).toEqual([
      'overdue', 'd3', 'd3', 'd7', 'd7', 'd15', 'd15', 'd30', 'd30', 'more', 'none',
    ])
    const c = countBuckets([-2, -1, 1, 40, null])
    expect(c).toEqual({ overdue: 2, d3: 1, d7: 0, d15: 0, d30: 0, more: 1, none: 1 })
  })

  it('counts visits per Beijing day, every day present', () => {
    const days = visitsPerDay(
      ['2026-11-08T00:30:00Z', '2026-11-08T15:59:00Z', '2026-11-08T16:00:00Z', 'bad'],
      '2026-11-08',
      '2026-11-10',
    )
    expect(days).toEqual([
      { day: '2026-11-08', visits: 2 },
      { day: '2026-11-09', visits: 1 },
      { day: '2026-11-10', visits: 0 },
    ])
  })

  it('reports at the county or township of a scope', () => {
    expect(reportRegionOfScope('430426')).toBe('430426000000')
    expect(reportRegionOfScope('430426102')).toBe('430426102000')
    expect(reportRegionOfScope('430426102001')).toBe('430426102000')
    expect(summaryUrl('430426000000', 'c-1', 'xlsx')).toBe('/v1/reports/summary?region_code=430426000000&campaign_id=c-1&format=xlsx')
  })

  it('reads file names and builds queries', () => {
    expect(dispositionName(`attachment; filename="summary-430426000000.xlsx"; filename*=UTF-8''%E7%A5%81%E4%B8%9C%E5%8E%BF.xlsx`)).toBe('祁东县.xlsx')
    expect(dispositionName('attachment; filename="a.csv"')).toBe('a.csv')
    expect(dispositionName(null)).toBeNull()
    expect(withQuery('/v1/export/visits', { region_code: '430426', from: '', to: undefined, format: 'csv' })).toBe(
      '/v1/export/visits?region_code=430426&format=csv',
    )
  })
})
