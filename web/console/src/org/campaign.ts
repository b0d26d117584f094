/**
 * The campaign form and the registry's CreateCampaign / UpdateCampaign
 * bodies: a period of Beijing days (the first day's 00:00 to the day after
 * the last, as the contracts' timestamps), quotas per position with money
 * in yuan on screen and fen on the wire.
 */
import { beijingToday, fenToYuan, yuanToFen } from '@zoufang/shared'

export interface QuotaRow {
  /** '' applies to everyone of the campaign. */
  position: string
  metric: string
  target: number
  /** Only for QUOTA_METRIC_HOUSEHOLDS_HELPED: yuan as typed. */
  min_amount_yuan: string
}

export interface CampaignForm {
  name: string
  region_code: string
  /** [first day, last day], YYYY-MM-DD Beijing. */
  period: [string, string]
  themes: string[]
  completeness_policy: string
  quotas: QuotaRow[]
}

export interface CampaignLike {
  campaign_id?: string
  region_code?: string
  name?: string
  starts_at?: string
  ends_at?: string
  themes?: string[]
  status?: string
  completeness_policy?: string
  quotas?: { position?: string; metric?: string; target?: string | number; min_amount_fen?: string | number }[]
}

const DAY_MS = 86_400_000
const BEIJING_MS = 8 * 3600 * 1000

/** YYYY-MM-DD (Beijing) → the instant its day starts, RFC 3339 UTC. */
export function dayStart(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d) - BEIJING_MS).toISOString().replace('.000Z', 'Z')
}

/** The Beijing day of an instant. */
function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_MS).toISOString().slice(0, 10)
}

/** Adds whole days to a YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10)
}

/** The period as people read it: first and last day (ends_at is exclusive). */
export function periodOf(starts_at?: string, ends_at?: string): [string, string] {
  const s = starts_at ? beijingDay(new Date(starts_at).getTime()) : ''
  const e = ends_at ? beijingDay(new Date(ends_at).getTime() - 1) : ''
  return [s, e]
}

/** A new campaign's defaults: the caller's region, from today for 60 days. */
export function defaultForm(region_code: string, now: Date = new Date()): CampaignForm {
  const today = beijingToday(now)
  const year = today.slice(0, 4)
  return {
    name: `${year}年“大走访”活动`,
    region_code,
    period: [today, addDays(today, 59)],
    themes: ['政策宣传', '民生工程', '矛盾纠纷排查'],
    completeness_policy: 'COMPLETENESS_POLICY_FLAG',
    quotas: [
      { position: '', metric: 'QUOTA_METRIC_HOUSEHOLDS_VISITED', target: 30, min_amount_yuan: '' },
    ],
  }
}

export function formOf(c: CampaignLike): CampaignForm {
  return {
    name: c.name ?? '',
    region_code: c.region_code ?? '',
    period: periodOf(c.starts_at, c.ends_at),
    themes: [...(c.themes ?? [])],
    completeness_policy: c.completeness_policy ?? 'COMPLETENESS_POLICY_FLAG',
    quotas: (c.quotas ?? []).map((q) => ({
      position: q.position ?? '',
      metric: q.metric ?? 'QUOTA_METRIC_HOUSEHOLDS_VISITED',
      target: Number(q.target ?? 0),
      min_amount_yuan:
        q.metric === 'QUOTA_METRIC_HOUSEHOLDS_HELPED' && q.min_amount_fen && q.min_amount_fen !== '0'
          ? fenToYuan(q.min_amount_fen).replace(/,/g, '')
          : '',
    })),
  }
}

/** A form problem found before sending, by the contract's field name. */
export interface FormProblem {
  field: string
  reason: string
}

/** Checks what the browser can; the registry checks everything again. */
export function checkForm(f: CampaignForm): FormProblem[] {
  const out: FormProblem[] = []
  if (!f.name.trim()) out.push({ field: 'name', reason: '请填写活动名称' })
  if (!f.period[0] || !f.period[1]) out.push({ field: 'period', reason: '请选择活动起止日期' })
  else if (f.period[1] < f.period[0]) out.push({ field: 'period', reason: '结束日期不能早于开始日期' })
  f.quotas.forEach((q, i) => {
    if (!Number.isInteger(q.target) || q.target <= 0)
      out.push({ field: `quotas[${i}].target`, reason: '任务数应为正整数' })
    if (q.metric === 'QUOTA_METRIC_HOUSEHOLDS_HELPED' && q.min_amount_yuan && yuanToFen(q.min_amount_yuan) === null)
      out.push({ field: `quotas[${i}].min_amount_fen`, reason: '金额格式不正确' })
  })
  return out
}

function quotasOf(f: CampaignForm) {
  return f.quotas.map((q) => ({
    position: q.position.trim(),
    metric: q.metric as 'QUOTA_METRIC_HOUSEHOLDS_VISITED',
    target: String(q.target),
    min_amount_fen:
      q.metric === 'QUOTA_METRIC_HOUSEHOLDS_HELPED' && q.min_amount_yuan ? (yuanToFen(q.min_amount_yuan) ?? '0') : '0',
  }))
}

/** The CreateCampaign body (a new campaign starts planned). */
export function createBody(f: CampaignForm, campaign_id: string) {
  return {
    campaign_id,
    region_code: f.region_code,
    name: f.name.trim(),
    starts_at: dayStart(f.period[0]),
    ends_at: dayStart(addDays(f.period[1], 1)),
    themes: f.themes.map((t) => t.trim()).filter(Boolean),
    status: 'CAMPAIGN_STATUS_PLANNED' as const,
    completeness_policy: f.completeness_policy as 'COMPLETENESS_POLICY_FLAG',
    quotas: quotasOf(f),
  }
}

/** The UpdateCampaign body (every editable field; region and status stay). */
export function updateBody(f: CampaignForm, campaign_id: string) {
  const { region_code: _r, status: _s, ...rest } = createBody(f, campaign_id)
  return rest
}

/** A quota as one line: 工作队员 · 走访群众户数 60. */
export function quotaText(q: { position?: string; metric?: string; target?: string | number; min_amount_fen?: string | number }, metricLabel: (m: string) => string): string {
  const who = q.position || '全体干部'
  const extra =
    q.metric === 'QUOTA_METRIC_HOUSEHOLDS_HELPED' && q.min_amount_fen && q.min_amount_fen !== '0'
      ? `（每户不少于 ${fenToYuan(q.min_amount_fen)} 元）`
      : ''
  return `${who} · ${metricLabel(q.metric ?? '')} ${q.target ?? 0}${extra}`
}

/** The quotas that apply to a position: its own, else the everyone ones. */
export function quotasFor<T extends { position?: string }>(quotas: T[], position: string): T[] {
  const own = quotas.filter((q) => q.position === position)
  return own.length ? own : quotas.filter((q) => !q.position)
}
