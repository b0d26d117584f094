/**
 * The statutory clock of a petition case (信访工作条例), as
 * services/petition/src/domain/clock.rs keeps it: acceptance within 15 days
 * of receipt; handling within 60 days of acceptance, extendable once by at
 * most 30 days with a reason; a review (复查) may be asked for within 30
 * days of the reply and is decided within 30; a re-review (复核) likewise;
 * hotline work orders (12345) may be returned, reassigned or merged.
 */
import { daysUntil, type Role, type RpcResponse } from '@zoufang/shared'

export type Case = NonNullable<RpcResponse<'petition', 'GetCase'>['case']>
export type CaseLogEntry = NonNullable<RpcResponse<'petition', 'GetCase'>['log']>[number]

export const ACCEPT_DAYS = 15
export const HANDLE_DAYS = 60
export const MAX_EXTENSION_DAYS = 30
export const APPEAL_DAYS = 30
export const APPEAL_DECISION_DAYS = 30

export type CaseAction =
  | 'accept'
  | 'refuse'
  | 'extend'
  | 'reply'
  | 'review'
  | 'decide'
  | 'return'
  | 'reassign'
  | 'merge'

export const CASE_ACTION_LABEL: Record<CaseAction, string> = {
  accept: '受理',
  refuse: '不予受理',
  extend: '延期办理',
  reply: '答复',
  review: '申请复查',
  decide: '复查决定',
  return: '退单',
  reassign: '改派',
  merge: '并单',
}

export type ClockTone = 'lapsed' | 'soon' | 'normal' | 'none'

export interface ClockView {
  /** What the clock counts: 受理期限, 办理期限 … ('' for a closed case). */
  label: string
  /** 剩 12 天 / 今日到期 / 超期 3 天 / 已办结. */
  text: string
  tone: ClockTone
  /** When it runs out (ISO), if it does. */
  until?: string
}

const DAY = 86_400_000

function addDays(iso: string, days: number): string {
  return new Date(new Date(iso).getTime() + days * DAY).toISOString()
}

function countdown(label: string, until: string, now: Date, strict = true): ClockView {
  const left = daysUntil(until, now) ?? 0
  const lapsed = new Date(until).getTime() < now.getTime()
  if (lapsed) return { label, text: strict ? `超期 ${Math.max(1, -left)} 天` : '已过期', tone: strict ? 'lapsed' : 'none', until }
  if (left === 0) return { label, text: '今日到期', tone: strict ? 'soon' : 'normal', until }
  return { label, text: `剩 ${left} 天`, tone: strict && left <= 3 ? 'soon' : 'normal', until }
}

/** The clock of a case at `now`. */
export function clockView(c: Pick<Case, 'stage' | 'due_at' | 'extended' | 'answered_at'>, now: Date = new Date()): ClockView {
  switch (c.stage) {
    case 'STAGE_RECEIVED':
      return c.due_at ? countdown('受理期限', c.due_at, now) : { label: '受理期限', text: '—', tone: 'none' }
    case 'STAGE_HANDLING':
      return c.due_at
        ? countdown(c.extended ? '办理期限（已延期）' : '办理期限', c.due_at, now)
        : { label: '办理期限', text: '—', tone: 'none' }
    case 'STAGE_UNDER_REVIEW':
      return c.due_at ? countdown('复查决定期限', c.due_at, now) : { label: '复查决定期限', text: '—', tone: 'none' }
    case 'STAGE_UNDER_RE_REVIEW':
      return c.due_at ? countdown('复核决定期限', c.due_at, now) : { label: '复核决定期限', text: '—', tone: 'none' }
    case 'STAGE_REPLIED':
      return c.answered_at
        ? countdown('申请复查期限', addDays(c.answered_at, APPEAL_DAYS), now, false)
        : { label: '', text: '已答复', tone: 'none' }
    case 'STAGE_REVIEWED':
      return c.answered_at
        ? countdown('申请复核期限', addDays(c.answered_at, APPEAL_DAYS), now, false)
        : { label: '', text: '已复查', tone: 'none' }
    default:
      return { label: '', text: '已结束', tone: 'none' }
  }
}

/** Whether the 30-day window to ask for a review (or re-review) is still open. */
export function appealOpen(c: Pick<Case, 'answered_at'>, now: Date = new Date()): boolean {
  if (!c.answered_at) return true
  return now.getTime() <= new Date(c.answered_at).getTime() + APPEAL_DAYS * DAY
}

const HANDLERS: Role[] = ['petition_bureau', 'county_admin', 'township_admin']

/** The steps the caller may take on a case now, by stage (domain/clock.rs). */
export function caseActions(c: Case, roles: readonly Role[], now: Date = new Date()): CaseAction[] {
  if (!HANDLERS.some((r) => roles.includes(r))) return []
  const hotline = c.kind === 'CASE_KIND_HOTLINE'
  const out: CaseAction[] = []
  switch (c.stage) {
    case 'STAGE_RECEIVED':
      out.push('accept', 'refuse')
      if (hotline) out.push('return', 'merge')
      break
    case 'STAGE_HANDLING':
      out.push('reply')
      if (!c.extended) out.push('extend')
      if (hotline) out.push('return', 'merge')
      break
    case 'STAGE_REPLIED':
    case 'STAGE_REVIEWED':
      if (appealOpen(c, now)) out.push('review')
      break
    case 'STAGE_UNDER_REVIEW':
    case 'STAGE_UNDER_RE_REVIEW':
      out.push('decide')
      break
    case 'STAGE_RETURNED':
      if (hotline) out.push('reassign', 'merge')
      break
  }
  return out
}

/** The label of a step on a case (申请复查 becomes 申请复核 after a review). */
export function caseActionLabel(a: CaseAction, c: Pick<Case, 'stage'>): string {
  if (a === 'review' && c.stage === 'STAGE_REVIEWED') return '申请复核'
  if (a === 'decide' && c.stage === 'STAGE_UNDER_RE_REVIEW') return '复核决定'
  return CASE_ACTION_LABEL[a]
}

/** The case log's and replies' change names in Chinese. */
export const CASE_CHANGE: Record<string, string> = {
  received: '收到',
  updated: '更新',
  accepted: '受理',
  not_accepted: '不予受理',
  refused: '不予受理',
  extended: '延期',
  replied: '答复',
  review_requested: '申请复查',
  reviewed: '复查决定',
  re_review_requested: '申请复核',
  rereview_requested: '申请复核',
  re_reviewed: '复核决定',
  rereviewed: '复核决定',
  returned: '退单',
  reassigned: '改派',
  merged: '并单',
  finalized: '办结',
}

/** A change name in Chinese (an unknown one shows as is). */
export function changeLabel(change: string | undefined): string {
  if (!change) return '—'
  return CASE_CHANGE[change] ?? change
}
