import { describe, expect, it } from 'vitest'
import { daysUntil, formatDate, formatDateTime, formatRelative } from '../src/format/time'
import { fenToYuan, yuanToFen } from '../src/format/money'
import { levelOfRegionCode, regionCodeOfScope, scopeOfRegionCode } from '../src/format/region'
import { ISSUE_STATE, label, options } from '../src/labels'

describe('Beijing time', () => {
  it('shows instants in UTC+8 whatever the zone', () => {
    expect(formatDateTime('2026-12-07T16:30:00Z')).toBe('2026-12-08 00:30')
    expect(formatDateTime('2026-12-07T16:30:09Z', true)).toBe('2026-12-08 00:30:09')
    expect(formatDate('2026-12-07T16:30:00Z')).toBe('2026-12-08')
    expect(formatDate('2026-12-07')).toBe('2026-12-07')
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('not a date')).toBe('—')
  })

  it('counts days by Beijing dates', () => {
    const now = new Date('2026-12-07T15:59:00Z') // 23:59 Beijing
    expect(daysUntil('2026-12-07T16:01:00Z', now)).toBe(1) // 00:01 next Beijing day
    expect(daysUntil('2026-12-05T00:00:00Z', now)).toBe(-2)
    expect(formatRelative('2026-12-07T15:58:30Z', now)).toBe('刚刚')
    expect(formatRelative('2026-12-07T15:49:00Z', now)).toBe('10 分钟前')
  })
})

describe('money', () => {
  it('reads fen as yuan', () => {
    expect(fenToYuan(123456)).toBe('1,234.56')
    expect(fenToYuan('5', true)).toBe('0.05 元')
    expect(fenToYuan('-150')).toBe('-1.50')
    expect(fenToYuan('9007199254740993')).toBe('90,071,992,547,409.93')
    expect(fenToYuan(undefined)).toBe('—')
    expect(fenToYuan('abc')).toBe('—')
  })

  it('reads typed yuan as fen', () => {
    expect(yuanToFen('12.5')).toBe('1250')
    expect(yuanToFen('1,234.56 元')).toBe('123456')
    expect(yuanToFen('3')).toBe('300')
    expect(yuanToFen('1.234')).toBeNull()
    expect(yuanToFen('x')).toBeNull()
  })
})

describe('region codes', () => {
  it('maps scopes and codes both ways', () => {
    expect(regionCodeOfScope('430426107')).toBe('430426107000')
    expect(scopeOfRegionCode('430426107000')).toBe('430426107')
    expect(scopeOfRegionCode('430426000000')).toBe('430426')
    expect(scopeOfRegionCode('430426107001')).toBe('430426107001')
    expect(levelOfRegionCode('430426107001')).toBe('village')
    expect(levelOfRegionCode('430426107000')).toBe('township')
    expect(levelOfRegionCode('4304')).toBeNull()
  })
})

describe('labels', () => {
  it('reads enum values in Chinese', () => {
    expect(label(ISSUE_STATE, 'ISSUE_STATE_IN_PROGRESS')).toBe('办理中')
    expect(label(ISSUE_STATE, 'ISSUE_STATE_UNSPECIFIED')).toBe('—')
    expect(label(ISSUE_STATE, 'ISSUE_STATE_NEW_ONE')).toBe('ISSUE_STATE_NEW_ONE')
    expect(options(ISSUE_STATE)[0]).toEqual({ value: 'ISSUE_STATE_OPEN', label: '待分派' })
  })
})
