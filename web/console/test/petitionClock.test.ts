import { describe, expect, it } from 'vitest'
import { caseActions, clockView, type Case } from '@/pages/petition/clock'

const now = new Date('2026-12-07T04:00:00Z')
const handling: Case = {
  case_id: 'c-1',
  kind: 'CASE_KIND_PETITION',
  stage: 'STAGE_HANDLING',
  due_at: '2027-01-20T04:00:00Z',
  extended: false,
  version: '2',
}

describe('clockView', () => {
  it('counts the handling days left', () => {
    expect(clockView(handling, now)).toMatchObject({ label: '办理期限', text: '剩 44 天', tone: 'normal' })
  })
  it('is red once the acceptance deadline lapsed', () => {
    const lapsed = { ...handling, stage: 'STAGE_RECEIVED' as const, due_at: '2026-12-04T04:00:00Z' }
    expect(clockView(lapsed, now)).toMatchObject({ label: '受理期限', text: '超期 3 天', tone: 'lapsed' })
  })
  it('is yellow in the last three days and says when it is today', () => {
    expect(clockView({ ...handling, due_at: '2026-12-09T04:00:00Z' }, now).tone).toBe('soon')
    expect(clockView({ ...handling, due_at: '2026-12-07T10:00:00Z' }, now).text).toBe('今日到期')
  })
  it('shows the review window after a reply, never red', () => {
    const replied = { ...handling, stage: 'STAGE_REPLIED' as const, due_at: undefined, answered_at: '2026-10-01T00:00:00Z' }
    expect(clockView(replied, now)).toMatchObject({ label: '申请复查期限', text: '已过期', tone: 'none' })
  })
})

describe('caseActions', () => {
  const bureau = ['petition_bureau'] as const
  it('offers reply and a single extension while handling', () => {
    expect(caseActions(handling, bureau, now)).toEqual(['reply', 'extend'])
    expect(caseActions({ ...handling, extended: true }, bureau, now)).toEqual(['reply'])
  })
  it('offers return and merge only for hotline orders', () => {
    expect(caseActions({ ...handling, stage: 'STAGE_RECEIVED' }, bureau, now)).toEqual(['accept', 'refuse'])
    expect(caseActions({ ...handling, stage: 'STAGE_RECEIVED', kind: 'CASE_KIND_HOTLINE' }, bureau, now)).toEqual([
      'accept', 'refuse', 'return', 'merge',
    ])
    expect(caseActions({ ...handling, stage: 'STAGE_RETURNED', kind: 'CASE_KIND_HOTLINE' }, bureau, now)).toEqual([
      'reassign', 'merge',
    ])
  })
  it('offers a review only within 30 days of the reply', () => {
    const replied = { ...handling, stage: 'STAGE_REPLIED' as const, answered_at: '2026-11-20T00:00:00Z' }
    expect(caseActions(replied, bureau, now)).toEqual(['review'])
    expect(caseActions({ ...replied, answered_at: '2026-10-01T00:00:00Z' }, bureau, now)).toEqual([])
  })
  it('offers nothing to a supervisor', () => {
    expect(caseActions(handling, ['supervisor'], now)).toEqual([])
  })
})
