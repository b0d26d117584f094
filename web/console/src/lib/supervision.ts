/**
 * The callback (督查回访) form's rules, apart from the page so they are
 * tested alone: what a supervisor must say for each result of an attempt,
 * in Chinese, and the RecordAttempt request it makes.
 *
 * Blind verification: the form asks the resident what happened (members,
 * help received, roughly when) without ever showing what the cadre wrote;
 * supervision compares the answers with the diary afterwards.
 */
import type { RpcRequest, RpcResponse } from '@zoufang/shared'

export type Callback = NonNullable<RpcResponse<'supervision', 'GetCallback'>['callback']>
export type AttemptRequest = RpcRequest<'supervision', 'RecordAttempt'>

/** What came of this attempt. */
export type AttemptResult = 'reached' | 'no_answer' | 'refused' | 'wrong_number' | 'not_home'

export const ATTEMPT_RESULTS: { value: AttemptResult; label: string; reached: boolean }[] = [
  { value: 'reached', label: '已联系上，完成回访', reached: true },
  { value: 'no_answer', label: '无人接听 / 未接通', reached: false },
  { value: 'refused', label: '拒绝回访', reached: false },
  { value: 'wrong_number', label: '号码错误 / 空号', reached: false },
  { value: 'not_home', label: '上门未遇', reached: false },
]

export type YesNo = '' | 'yes' | 'no'

export interface OutcomeForm {
  method: '' | 'METHOD_PHONE' | 'METHOD_ON_SITE'
  result: '' | AttemptResult
  /** Visit callbacks: did the visit happen? */
  visit_confirmed: YesNo
  /** Item callbacks: is the fix real? */
  fix_confirmed: YesNo
  satisfaction: '' | 'SATISFACTION_SATISFIED' | 'SATISFACTION_BASICALLY_SATISFIED' | 'SATISFACTION_UNSATISFIED'
  /** Back-check answers (visit callbacks); empty = not asked. */
  member_count: number | null
  /** 元, as typed; empty = not asked. */
  help_yuan: string
  /** YYYY-MM-DD; empty = not asked. */
  visit_date: string
  comment: string
}

export function emptyOutcome(): OutcomeForm {
  return {
    method: 'METHOD_PHONE',
    result: '',
    visit_confirmed: '',
    fix_confirmed: '',
    satisfaction: '',
    member_count: null,
    help_yuan: '',
    visit_date: '',
    comment: '',
  }
}

export const COMMENT_MAX = 1000

export function isReached(result: OutcomeForm['result']): boolean {
  return result === 'reached'
}

export function isVisitCallback(c: Pick<Callback, 'subject'>): boolean {
  return c.subject === 'CALLBACK_SUBJECT_VISIT'
}

/** 元 as typed → 分, or null when not a sum of money (two decimals at most). */
export function yuanToFen(text: string): number | null {
  const t = text.trim()
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(t)) return null
  const [whole, frac = ''] = t.split('.')
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'))
}

/**
 * Chinese reasons, keyed by the request's field names (the gateway's
 * field_errors use the same names, so one map shows both).
 */
export function validateOutcome(
  form: OutcomeForm,
  callback: Pick<Callback, 'subject'>,
  today: string,
): Record<string, string> {
  const errors: Record<string, string> = {}
  if (!form.method) errors.method = '请选择回访方式（电话或上门）'
  if (!form.result) errors.result = '请选择本次回访结果'
  const comment = form.comment.trim()
  if ([...comment].length > COMMENT_MAX) errors.comment = `情况说明不能超过${COMMENT_MAX}字`
  if (!isReached(form.result)) {
    return errors
  }
  if (isVisitCallback(callback)) {
    if (!form.visit_confirmed) errors.visit_confirmed = '请选择群众是否确认干部上门走访'
    if (form.visit_confirmed === 'no' && !comment) errors.comment = '群众未确认走访，请写明群众原话或具体情况'
    if (form.member_count !== null && (!Number.isInteger(form.member_count) || form.member_count < 1 || form.member_count > 50)) {
      errors.answered_member_count = '家庭人口应为 1 至 50 之间的整数'
    }
    if (form.help_yuan.trim() && yuanToFen(form.help_yuan) === null) {
      errors.answered_help_fen = '帮扶金额请填写数字（元），最多两位小数'
    }
    if (form.visit_date) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(form.visit_date)) errors.answered_visit_date = '日期格式应为 年-月-日'
      else if (form.visit_date > today) errors.answered_visit_date = '走访日期不能晚于今天'
    }
  } else {
    if (!form.fix_confirmed) errors.fix_confirmed = '请选择问题是否确已解决'
    if (!form.satisfaction) errors.satisfaction = '请选择群众满意度'
    if ((form.fix_confirmed === 'no' || form.satisfaction === 'SATISFACTION_UNSATISFIED') && !comment) {
      errors.comment = '问题未解决或群众不满意，请写明具体情况'
    }
  }
  return errors
}

/** The RecordAttempt request of a valid form. */
export function toAttemptRequest(form: OutcomeForm, callback: Pick<Callback, 'callback_id' | 'subject'>): AttemptRequest {
  const reached = isReached(form.result)
  const reason = ATTEMPT_RESULTS.find((r) => r.value === form.result)
  const comment = form.comment.trim()
  const req: AttemptRequest = {
    callback_id: callback.callback_id ?? '',
    method: form.method || 'METHOD_UNSPECIFIED',
    reached,
    // An attempt that did not reach anyone keeps its reason in the comment
    // (the contract has no reason field).
    comment: reached ? comment : [reason?.label, comment].filter(Boolean).join('：'),
  }
  if (!reached) return req
  if (isVisitCallback(callback)) {
    req.visit_confirmed = form.visit_confirmed === 'yes'
    if (form.satisfaction) req.satisfaction = form.satisfaction
    if (form.member_count !== null) req.answered_member_count = form.member_count
    const fen = form.help_yuan.trim() ? yuanToFen(form.help_yuan) : null
    if (fen !== null) req.answered_help_fen = String(fen)
    if (form.visit_date) req.answered_visit_date = form.visit_date
  } else {
    req.fix_confirmed = form.fix_confirmed === 'yes'
    req.satisfaction = form.satisfaction || 'SATISFACTION_UNSPECIFIED'
  }
  return req
}

/** 138****1234: the number as the page shows it before a reveal. */
export function maskPhone(phone: string | null | undefined): string {
  const p = (phone ?? '').trim()
  if (!p) return ''
  if (p.includes('*')) return p
  if (p.length < 7) return '*'.repeat(p.length)
  return `${p.slice(0, 3)}${'*'.repeat(p.length - 7)}${p.slice(-4)}`
}

/** The gateway names RecordAttempt's fields in English: say them in Chinese. */
export const FIELD_LABELS: Record<string, string> = {
  method: '回访方式',
  satisfaction: '满意度',
  comment: '情况说明',
  answered_member_count: '家庭人口',
  answered_help_fen: '帮扶金额',
  answered_visit_date: '走访日期',
}

/** Days until (negative: since) the due time, from now. */
export function dueInDays(due: string | undefined, now: Date = new Date()): number | null {
  if (!due) return null
  const t = Date.parse(due)
  if (Number.isNaN(t)) return null
  return Math.floor((t - now.getTime()) / 86_400_000)
}
