/**
 * Chinese labels of the contracts' enums, in one file. Keys are the enum
 * value names as the JSON carries them (ISSUE_STATE_OPEN). Use `label()`
 * to read one and `options()` to fill a select.
 */

export type Labels = Readonly<Record<string, string>>

export const ISSUE_STATE: Labels = {
  ISSUE_STATE_OPEN: '待分派',
  ISSUE_STATE_ASSIGNED: '已分派',
  ISSUE_STATE_IN_PROGRESS: '办理中',
  ISSUE_STATE_RESOLVED: '已办结',
  ISSUE_STATE_VERIFIED: '已核实',
  ISSUE_STATE_EXPLAINED: '已解释说明',
  ISSUE_STATE_ESCALATED: '已上报',
  ISSUE_STATE_REOPENED: '重新办理',
  ISSUE_STATE_DUPLICATE: '已合并',
}

/** Element Plus tag types of the issue states (el-tag :type). */
export const ISSUE_STATE_TAG: Readonly<Record<string, 'primary' | 'success' | 'info' | 'warning' | 'danger'>> = {
  ISSUE_STATE_OPEN: 'warning',
  ISSUE_STATE_ASSIGNED: 'primary',
  ISSUE_STATE_IN_PROGRESS: 'primary',
  ISSUE_STATE_RESOLVED: 'success',
  ISSUE_STATE_VERIFIED: 'success',
  ISSUE_STATE_EXPLAINED: 'info',
  ISSUE_STATE_ESCALATED: 'warning',
  ISSUE_STATE_REOPENED: 'danger',
  ISSUE_STATE_DUPLICATE: 'info',
}

export const ITEM_KIND: Labels = {
  ITEM_KIND_PROBLEM: '问题',
  ITEM_KIND_SUGGESTION: '意见建议',
  ITEM_KIND_DISPUTE: '矛盾纠纷',
  ITEM_KIND_PETITION: '信访',
}

export const ISSUE_SOURCE: Labels = {
  ISSUE_SOURCE_VISIT: '走访',
  ISSUE_SOURCE_RECEPTION: '开门接访',
  ISSUE_SOURCE_HOTLINE: '热线电话',
  ISSUE_SOURCE_PETITION: '信访件',
}

export const PRIORITY: Labels = {
  PRIORITY_NORMAL: '一般',
  PRIORITY_HIGH: '较急',
  PRIORITY_URGENT: '紧急',
}

export const DISPOSITION: Labels = {
  DISPOSITION_ON_SPOT: '当即解决',
  DISPOSITION_TIME_LIMITED: '限时解决',
  DISPOSITION_ESCALATED: '上报',
  DISPOSITION_EXPLAINED: '解释说明',
}

export const VISIT_MODE: Labels = {
  VISIT_MODE_DOOR_TO_DOOR: '入户走访',
  VISIT_MODE_PHONE: '电话走访',
  VISIT_MODE_RECEPTION: '集中接访',
  VISIT_MODE_CASE_VISIT: '带案下访',
  VISIT_MODE_LIVE_IN: '同吃同住',
}

export const SATISFACTION: Labels = {
  SATISFACTION_SATISFIED: '满意',
  SATISFACTION_BASICALLY_SATISFIED: '基本满意',
  SATISFACTION_UNSATISFIED: '不满意',
}

export const REGION_LEVEL: Labels = {
  REGION_LEVEL_PROVINCE: '省',
  REGION_LEVEL_CITY: '市',
  REGION_LEVEL_COUNTY: '县',
  REGION_LEVEL_TOWNSHIP: '乡镇',
  REGION_LEVEL_VILLAGE: '村（社区）',
}

export const CADRE_UNIT: Labels = {
  CADRE_UNIT_TOWNSHIP_OFFICE: '乡镇机关',
  CADRE_UNIT_VILLAGE_COMMITTEE: '村两委',
  CADRE_UNIT_COUNTY_DEPARTMENT: '县直部门',
}

export const CAMPAIGN_STATUS: Labels = {
  CAMPAIGN_STATUS_PLANNED: '未开始',
  CAMPAIGN_STATUS_ACTIVE: '进行中',
  CAMPAIGN_STATUS_CLOSED: '已结束',
}

export const COMPLETENESS_POLICY: Labels = {
  COMPLETENESS_POLICY_REFUSE: '信息不全不予保存',
  COMPLETENESS_POLICY_FLAG: '保存并标记不完整',
}

export const QUOTA_METRIC: Labels = {
  QUOTA_METRIC_HOUSEHOLDS_VISITED: '走访群众户数',
  QUOTA_METRIC_OVERNIGHT_STAYS: '住宿天数',
  QUOTA_METRIC_KEY_HOUSEHOLDS_VISITED: '专访重点户数',
  QUOTA_METRIC_HOUSEHOLDS_HELPED: '帮扶困难户数',
  QUOTA_METRIC_VISITS: '走访次数',
}

export const ASSIGNMENT_TARGET: Labels = {
  ASSIGNMENT_TARGET_ZONE: '包片',
  ASSIGNMENT_TARGET_VILLAGE: '联系村',
  ASSIGNMENT_TARGET_HOUSEHOLD: '联系户',
}

export const CALLBACK_SUBJECT: Labels = {
  CALLBACK_SUBJECT_ISSUE: '台账事项回访',
  CALLBACK_SUBJECT_VISIT: '走访真实性回访',
}

export const CALLBACK_STATE: Labels = {
  CALLBACK_STATE_OPEN: '待回访',
  CALLBACK_STATE_DONE: '已回访',
  CALLBACK_STATE_UNREACHABLE: '无法联系',
}

export const CALLBACK_METHOD: Labels = {
  METHOD_PHONE: '电话回访',
  METHOD_ON_SITE: '上门回访',
}

export const FINDING_KIND: Labels = {
  FINDING_KIND_DIARY_INCOMPLETE: '民情日记不详细、不规范',
  FINDING_KIND_QUOTA_BEHIND: '走访进度滞后',
  FINDING_KIND_DISCIPLINE: '违反走访纪律',
  FINDING_KIND_OTHER: '其他',
}

export const CASE_KIND: Labels = {
  CASE_KIND_PETITION: '信访件',
  CASE_KIND_HOTLINE: '12345 工单',
}

export const PETITION_STAGE: Labels = {
  STAGE_RECEIVED: '待受理',
  STAGE_NOT_ACCEPTED: '不予受理',
  STAGE_HANDLING: '办理中',
  STAGE_REPLIED: '已答复',
  STAGE_UNDER_REVIEW: '复查中',
  STAGE_REVIEWED: '已复查',
  STAGE_UNDER_RE_REVIEW: '复核中',
  STAGE_FINAL: '已办结',
  STAGE_RETURNED: '已退单',
  STAGE_MERGED: '已并单',
}

export const PETITION_OUTCOME: Labels = {
  OUTCOME_SUPPORTED: '支持',
  OUTCOME_EXPLAINED: '解释',
  OUTCOME_NOT_SUPPORTED: '不予支持',
}

export const REPLY_STATE: Labels = {
  REPLY_STATE_PENDING: '待推送',
  REPLY_STATE_SENDING: '推送中',
  REPLY_STATE_SENT: '已推送',
  REPLY_STATE_FAILED: '推送失败',
}

export const CHANNEL: Labels = {
  CHANNEL_INBOX: '站内消息',
  CHANNEL_SMS: '短信',
  CHANNEL_WECOM: '企业微信群',
  CHANNEL_DINGTALK: '钉钉群',
  CHANNEL_WEBHOOK: 'Webhook',
}

export const DELIVERY_STATE: Labels = {
  DELIVERY_STATE_PENDING: '待发送',
  DELIVERY_STATE_SENT: '已发送',
  DELIVERY_STATE_FAILED: '发送失败',
}

/** The label of a value ('—' when absent; an unknown value shows as is). */
export function label(labels: Labels, value: string | null | undefined): string {
  if (!value || value.endsWith('_UNSPECIFIED')) return '—'
  return labels[value] ?? value
}

/** `{value, label}` pairs for a select, in the file's order. */
export function options(labels: Labels): { value: string; label: string }[] {
  return Object.entries(labels).map(([value, text]) => ({ value, label: text }))
}
