/**
 * The ledger's rules as the console needs them: which actions the caller may
 * take on an item now (the state machine of services/issues/src/domain/state.rs
 * crossed with the role checks of ops/transitions.rs), and how a deadline
 * reads (time left, red when overdue, yellow within two days).
 *
 * The service still decides; this only keeps the page from offering what it
 * would refuse.
 */
import type { Role, RpcResponse } from '@zoufang/shared'

type GetIssue = RpcResponse<'issues', 'GetIssue'>
export type Issue = NonNullable<GetIssue['issue']>
export type TimelineEntry = NonNullable<GetIssue['timeline']>[number]
export type IssueStateName = NonNullable<Issue['state']>

export type IssueAction =
  | 'assign'
  | 'sign'
  | 'return'
  | 'start'
  | 'resolve'
  | 'explain'
  | 'escalate'
  | 'supervise'
  | 'verify'
  | 'reopen'
  | 'merge'

/** Button order on the item page. */
export const ACTION_ORDER: IssueAction[] = [
  'sign', 'return', 'assign', 'start', 'resolve', 'explain', 'escalate',
  'supervise', 'verify', 'reopen', 'merge',
]

export const ACTION_LABEL: Record<IssueAction, string> = {
  assign: '交办',
  sign: '签收',
  return: '退回',
  start: '开始办理',
  resolve: '办结',
  explain: '解释说明',
  escalate: '上报部门',
  supervise: '督办',
  verify: '核实',
  reopen: '重新办理',
  merge: '合并重复',
}

/** The timeline's action names (as recorded) in Chinese. */
export const TIMELINE_ACTION: Record<string, string> = {
  create: '登记',
  created: '登记',
  assign: '交办',
  start: '开始办理',
  resolve: '办结',
  explain: '解释说明',
  escalate: '上报',
  sign: '签收',
  return: '退回',
  supervise: '督办',
  verify: '核实',
  reopen: '重新办理',
  merge: '合并为重复',
  merge_in: '并入重复诉求',
  petition_deadline: '信访时限调整',
  due_soon: '即将到期',
  overdue: '已逾期',
}

type S = IssueStateName
const OPEN: S[] = [
  'ISSUE_STATE_OPEN',
  'ISSUE_STATE_ASSIGNED',
  'ISSUE_STATE_IN_PROGRESS',
  'ISSUE_STATE_ESCALATED',
  'ISSUE_STATE_REOPENED',
]

/** The states each action applies to (domain/state.rs `transition`). */
export const LEGAL_FROM: Record<IssueAction, S[]> = {
  assign: ['ISSUE_STATE_OPEN', 'ISSUE_STATE_REOPENED', 'ISSUE_STATE_ASSIGNED', 'ISSUE_STATE_IN_PROGRESS'],
  start: ['ISSUE_STATE_ASSIGNED', 'ISSUE_STATE_REOPENED'],
  resolve: OPEN,
  explain: OPEN,
  escalate: ['ISSUE_STATE_OPEN', 'ISSUE_STATE_ASSIGNED', 'ISSUE_STATE_IN_PROGRESS', 'ISSUE_STATE_REOPENED'],
  sign: ['ISSUE_STATE_ESCALATED'],
  return: ['ISSUE_STATE_ESCALATED'],
  supervise: OPEN,
  verify: ['ISSUE_STATE_RESOLVED', 'ISSUE_STATE_EXPLAINED'],
  reopen: ['ISSUE_STATE_RESOLVED', 'ISSUE_STATE_EXPLAINED', 'ISSUE_STATE_VERIFIED'],
  merge: OPEN,
}

/** Whether someone still has to act on an item in `state` (counts against its deadline). */
export function isOpenState(state: string | undefined): boolean {
  return OPEN.includes(state as S)
}

export interface Caller {
  roles: readonly Role[]
  /** The session's user id: a cadre's cadre id, a department account's id. */
  userId: string
}

const has = (c: Caller, ...r: Role[]) => r.some((x) => c.roles.includes(x))

/** Admins, the responsible cadre, or the department the item went to (ops/transitions.rs require_handler). */
function isHandler(issue: Issue, c: Caller): boolean {
  return (
    has(c, 'township_admin', 'county_admin') ||
    (has(c, 'cadre') && !!issue.responsible_cadre_id && issue.responsible_cadre_id === c.userId) ||
    isDepartmentOf(issue, c)
  )
}

function isDepartmentOf(issue: Issue, c: Caller): boolean {
  return (
    has(c, 'department') &&
    !!issue.department &&
    (issue.department === c.userId || (issue.assisting_departments ?? []).includes(c.userId))
  )
}

/** Who may take each action, whatever the state. */
function roleAllows(action: IssueAction, issue: Issue, c: Caller): boolean {
  switch (action) {
    case 'assign':
    case 'escalate':
    case 'merge':
      return has(c, 'township_admin', 'county_admin')
    case 'start':
    case 'resolve':
    case 'explain':
      return isHandler(issue, c)
    case 'sign':
    case 'return':
      return (has(c, 'department') && issue.department === c.userId) || has(c, 'county_admin')
    case 'supervise':
      return has(c, 'county_admin')
    case 'verify':
    case 'reopen':
      return has(c, 'supervisor', 'township_admin', 'county_admin')
  }
}

/** The actions `caller` may take on `issue` now, in button order. */
export function legalActions(issue: Issue, caller: Caller): IssueAction[] {
  const state = issue.state as S
  return ACTION_ORDER.filter((a) => {
    if (!LEGAL_FROM[a].includes(state)) return false
    // Signing or returning happens once, before the department signed.
    if ((a === 'sign' || a === 'return') && issue.signed_at) return false
    return roleAllows(a, issue, caller)
  })
}

export type DeadlineTone = 'overdue' | 'soon' | 'normal' | 'none'

export interface DeadlineView {
  /** 剩 3 天 4 小时 / 逾期 2 天 / 已办结 … */
  text: string
  tone: DeadlineTone
}

const HOUR = 3600_000
const DAY = 24 * HOUR

function span(ms: number): string {
  const days = Math.floor(ms / DAY)
  const hours = Math.floor((ms % DAY) / HOUR)
  if (days > 0) return hours > 0 ? `${days} 天 ${hours} 小时` : `${days} 天`
  if (hours > 0) return `${hours} 小时`
  return `${Math.max(1, Math.floor(ms / 60_000))} 分钟`
}

/**
 * How an item's deadline reads now: only items still to be acted on count
 * down; overdue is red, due within two days yellow.
 */
export function deadlineView(issue: Pick<Issue, 'deadline' | 'state'>, now: Date = new Date()): DeadlineView {
  if (!isOpenState(issue.state)) return { text: '—', tone: 'none' }
  if (!issue.deadline) return { text: '未设期限', tone: 'none' }
  const left = new Date(issue.deadline).getTime() - now.getTime()
  if (Number.isNaN(left)) return { text: '—', tone: 'none' }
  if (left < 0) return { text: `逾期 ${span(-left)}`, tone: 'overdue' }
  return { text: `剩 ${span(left)}`, tone: left <= 2 * DAY ? 'soon' : 'normal' }
}

/** Gateway field reasons are English for a few checks; people read Chinese. */
const REASONS: [RegExp, string][] = [
  [/^is required$|^required$/i, '此项必填'],
  [/too long|at most/i, '内容过长'],
  [/is the lead department or listed twice/i, '协办部门不能是牵头部门，也不能重复'],
  [/different counties/i, '不能合并不同县的事项'],
  [/^1 to 30 days$/i, '天数为 1 至 30 天'],
  [/unknown cadre|no such cadre/i, '干部不存在'],
  [/outside|not in the township|another township/i, '该干部不属于事项所在乡镇'],
  [/not a uuid|invalid uuid|uuid/i, '编号格式不正确'],
  [/letters, digits/i, '只能由字母、数字、- _ . 组成，1 至 64 位'],
  [/county code/i, '请选择县或更下级的行政区划'],
  [/http/i, '须为 http:// 或 https:// 开头的地址，或留空'],
  [/at least 16/i, '至少 16 个字符'],
  [/no such case/i, '本县没有该信访件'],
]

const HAN = /[\u4e00-\u9fff]/

/** A field reason in Chinese (the gateway's own when it already is). */
export function zhReason(reason: string): string {
  if (HAN.test(reason)) return reason
  for (const [re, zh] of REASONS) if (re.test(reason)) return zh
  return '填写有误，请检查'
}
