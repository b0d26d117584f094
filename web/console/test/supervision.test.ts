import { describe, expect, it } from 'vitest'
import {
  emptyOutcome,
  maskPhone,
  toAttemptRequest,
  validateOutcome,
  yuanToFen,
  type OutcomeForm,
} from '@/lib/supervision'

const VISIT = { callback_id: 'cb-1', subject: 'CALLBACK_SUBJECT_VISIT' as const }
const ISSUE = { callback_id: 'cb-2', subject: 'CALLBACK_SUBJECT_ISSUE' as const }
const TODAY = '2026-12-08'

function form(patch: Partial<OutcomeForm>): OutcomeForm {
  return { ...emptyOutcome(), ...patch }
}

describe('the callback form', () => {
  it('asks for the result of the attempt first', () => {
    expect(validateOutcome(form({}), VISIT, TODAY)).toEqual({ result: '请选择本次回访结果' })
  })

  it('records an attempt that reached nobody with its reason in the comment', () => {
    const f = form({ result: 'no_answer', comment: '下午再拨' })
    expect(validateOutcome(f, VISIT, TODAY)).toEqual({})
    expect(toAttemptRequest(f, VISIT)).toEqual({
      callback_id: 'cb-1',
      method: 'METHOD_PHONE',
      reached: false,
      comment: '无人接听 / 未接通：下午再拨',
    })
  })

  it('wants the visit confirmed or denied, and a comment when denied', () => {
    expect(validateOutcome(form({ result: 'reached' }), VISIT, TODAY)).toEqual({
      visit_confirmed: '请选择群众是否确认干部上门走访',
    })
    expect(validateOutcome(form({ result: 'reached', visit_confirmed: 'no' }), VISIT, TODAY)).toEqual({
      comment: '群众未确认走访，请写明群众原话或具体情况',
    })
  })

  it('checks the back-check answers in Chinese', () => {
    const errors = validateOutcome(
      form({ result: 'reached', visit_confirmed: 'yes', member_count: 60, help_yuan: '12.345', visit_date: '2027-01-01' }),
      VISIT,
      TODAY,
    )
    expect(errors).toEqual({
      answered_member_count: '家庭人口应为 1 至 50 之间的整数',
      answered_help_fen: '帮扶金额请填写数字（元），最多两位小数',
      answered_visit_date: '走访日期不能晚于今天',
    })
  })

  it('sends the back-check answers that were asked, money in fen', () => {
    const f = form({
      method: 'METHOD_ON_SITE',
      result: 'reached',
      visit_confirmed: 'yes',
      member_count: 4,
      help_yuan: '200.5',
      visit_date: '2026-12-01',
      satisfaction: 'SATISFACTION_SATISFIED',
      comment: ' 确认 ',
    })
    expect(toAttemptRequest(f, VISIT)).toEqual({
      callback_id: 'cb-1',
      method: 'METHOD_ON_SITE',
      reached: true,
      comment: '确认',
      visit_confirmed: true,
      satisfaction: 'SATISFACTION_SATISFIED',
      answered_member_count: 4,
      answered_help_fen: '20050',
      answered_visit_date: '2026-12-01',
    })
    // Not asked: not sent (the service compares only what was asked).
    const bare = toAttemptRequest(form({ result: 'reached', visit_confirmed: 'no', comment: '没来过' }), VISIT)
    expect(bare).not.toHaveProperty('answered_member_count')
    expect(bare).not.toHaveProperty('answered_help_fen')
    expect(bare).not.toHaveProperty('answered_visit_date')
  })

  it('wants the fix and the satisfaction of an item callback', () => {
    expect(validateOutcome(form({ result: 'reached' }), ISSUE, TODAY)).toEqual({
      fix_confirmed: '请选择问题是否确已解决',
      satisfaction: '请选择群众满意度',
    })
    expect(
      validateOutcome(form({ result: 'reached', fix_confirmed: 'yes', satisfaction: 'SATISFACTION_UNSATISFIED' }), ISSUE, TODAY),
    ).toEqual({ comment: '问题未解决或群众不满意，请写明具体情况' })
    const req = toAttemptRequest(form({ result: 'reached', fix_confirmed: 'yes', satisfaction: 'SATISFACTION_BASICALLY_SATISFIED' }), ISSUE)
    expect(req).toMatchObject({ reached: true, fix_confirmed: true, satisfaction: 'SATISFACTION_BASICALLY_SATISFIED' })
  })

  it('reads 元 as 分 and masks phones', () => {
    expect(yuanToFen('0')).toBe(0)
    expect(yuanToFen('12.3')).toBe(1230)
    expect(yuanToFen('12.34')).toBe(1234)
    expect(yuanToFen('-1')).toBeNull()
    expect(yuanToFen('abc')).toBeNull()
    expect(maskPhone('13912345678')).toBe('139****5678')
    expect(maskPhone('139****5678')).toBe('139****5678')
    expect(maskPhone('')).toBe('')
  })
})
