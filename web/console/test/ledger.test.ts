import { describe, expect, it } from 'vitest'
import { deadlineView, legalActions, zhReason, type Issue } from '@/pages/issues/ledger'

const base: Issue = {
  issue_id: 'i-1',
  state: 'ISSUE_STATE_OPEN',
  version: '3',
  region_code: '430426102201',
  responsible_cadre_id: '',
  department: '',
}
const township = { roles: ['township_admin'] as const, userId: 'township-1' }
const county = { roles: ['county_admin'] as const, userId: 'leader-1' }
const supervisor = { roles: ['supervisor'] as const, userId: 'sup-1' }
const cadre = { roles: ['cadre'] as const, userId: 'c-1' }
const dept = { roles: ['department'] as const, userId: 'dept-1' }

describe('legalActions', () => {
  it('offers a township admin what an open item allows', () => {
    expect(legalActions(base, township)).toEqual(['assign', 'resolve', 'explain', 'escalate', 'merge'])
  })

  it('adds 督办 for a county admin only', () => {
    expect(legalActions(base, county)).toContain('supervise')
    expect(legalActions(base, township)).not.toContain('supervise')
  })

  it('lets the responsible cadre start and resolve, nobody else of their role', () => {
    const assigned = { ...base, state: 'ISSUE_STATE_ASSIGNED' as const, responsible_cadre_id: 'c-1' }
    expect(legalActions(assigned, cadre)).toEqual(['start', 'resolve', 'explain'])
    expect(legalActions(assigned, { ...cadre, userId: 'c-2' })).toEqual([])
  })

  it('lets the lead department sign or return once, then handle it', () => {
    const escalated = { ...base, state: 'ISSUE_STATE_ESCALATED' as const, department: 'dept-1' }
    expect(legalActions(escalated, dept)).toEqual(['sign', 'return', 'resolve', 'explain'])
    const signed = { ...escalated, signed_at: '2026-12-07T10:00:00Z' }
    expect(legalActions(signed, dept)).toEqual(['resolve', 'explain'])
    // An assisting department handles but neither signs nor returns.
    const assisting = { ...escalated, department: 'dept-2', assisting_departments: ['dept-1'] }
    expect(legalActions(assisting, dept)).toEqual(['resolve', 'explain'])
  })

  it('offers verify and reopen on a resolved item to checkers, nothing to start', () => {
    const resolved = { ...base, state: 'ISSUE_STATE_RESOLVED' as const }
    expect(legalActions(resolved, supervisor)).toEqual(['verify', 'reopen'])
    expect(legalActions({ ...resolved, state: 'ISSUE_STATE_VERIFIED' }, township)).toEqual(['reopen'])
  })

  it('offers nothing on a merged item', () => {
    expect(legalActions({ ...base, state: 'ISSUE_STATE_DUPLICATE' }, county)).toEqual([])
  })
})

describe('deadlineView', () => {
  const now = new Date('2026-12-07T12:00:00Z')
  it('reads time left, yellow within two days, red once past', () => {
    expect(deadlineView({ state: 'ISSUE_STATE_ASSIGNED', deadline: '2026-12-12T15:00:00Z' }, now)).toEqual({
      text: '剩 5 天 3 小时',
      tone: 'normal',
    })
    expect(deadlineView({ state: 'ISSUE_STATE_OPEN', deadline: '2026-12-08T12:00:00Z' }, now).tone).toBe('soon')
    expect(deadlineView({ state: 'ISSUE_STATE_OPEN', deadline: '2026-12-05T12:00:00Z' }, now)).toEqual({
      text: '逾期 2 天',
      tone: 'overdue',
    })
  })
  it('does not count down once the item is resolved', () => {
    expect(deadlineView({ state: 'ISSUE_STATE_RESOLVED', deadline: '2026-12-05T12:00:00Z' }, now).tone).toBe('none')
  })
})

describe('zhReason', () => {
  it('turns the service reasons into Chinese', () => {
    expect(zhReason('is required')).toBe('此项必填')
    expect(zhReason('1 to 30 days')).toBe('天数为 1 至 30 天')
    expect(zhReason('该干部不属于本乡镇')).toBe('该干部不属于本乡镇')
    expect(zhReason('something new')).toBe('填写有误，请检查')
  })
})
