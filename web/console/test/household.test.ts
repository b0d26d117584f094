import { describe, expect, it } from 'vitest'
import { editFormOf, toUpdateRequest, validateHouseholdEdit } from '@/lib/household'
import { notificationPath } from '@/lib/inbox'

const NOW = { household_id: 'h-1', address: '何家村8组12号', group_name: '8组', member_count: 7, version: '3' }

describe('the household edit', () => {
  it('wants a reason and some change', () => {
    const f = editFormOf(NOW)
    expect(validateHouseholdEdit(f, NOW)).toEqual({ note: '请填写修改原因（如：搬迁、换号、新增人口）' })
    f.note = '核对'
    expect(validateHouseholdEdit(f, NOW)).toEqual({ form: '没有修改任何内容' })
  })

  it('checks the phone and the members in Chinese', () => {
    const f = { ...editFormOf(NOW), phone: '12345', member_count: 0, note: '换号' }
    expect(validateHouseholdEdit(f, NOW)).toEqual({
      phone: '请输入11位手机号码',
      member_count: '家庭人口应为 1 至 50 之间的整数',
    })
  })

  it('sends only what changed, from the version read', () => {
    const f = { ...editFormOf(NOW), address: '安置小区3栋12号', note: '搬迁' }
    expect(validateHouseholdEdit(f, NOW)).toEqual({})
    expect(toUpdateRequest(f, NOW)).toEqual({
      household_id: 'h-1',
      expected_version: '3',
      address: '安置小区3栋12号',
      note: '搬迁',
    })
    const phone = { ...editFormOf(NOW), phone: '13912345678', member_count: 8, note: '换号' }
    expect(toUpdateRequest(phone, NOW)).toMatchObject({ phone: '13912345678', member_count: 8 })
    const cleared = { ...editFormOf(NOW), clear_phone: true, note: '停机' }
    expect(toUpdateRequest(cleared, NOW)).toMatchObject({ phone: '' })
  })
})

describe('notification links', () => {
  it('lead to the console page of their link or subject', () => {
    expect(notificationPath({ link: 'https://zf.example.cn/callbacks/abc' })).toBe('/callbacks/abc')
    expect(notificationPath({ link: '/issues/i-1' })).toBe('/issues/i-1')
    expect(notificationPath({ subject_type: 'callback', subject_id: 'c-9' })).toBe('/callbacks/c-9')
    expect(notificationPath({ link: 'https://elsewhere/x' })).toBeNull()
  })
})
