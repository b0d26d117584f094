/**
 * What the 驾驶舱 reads besides the summary report: the visits of a
 * campaign by day, the overdue and due-soon ledger items, the open
 * petition cases with their statutory clocks. Lists are read page by page
 * from the services (scope enforced there), with a cap so a county-wide
 * read stays bounded; the figures themselves come from the summary.
 */
import { call, daysUntil } from '@zoufang/shared'

/** Pages of visits read for the per-day line (500 a page). */
export const VISIT_PAGES = 10

export interface VisitDays {
  startedAt: string[]
  /** True when the cap stopped the read before the end. */
  capped: boolean
}

export async function campaignVisitStarts(campaignId: string, regionCode: string, signal?: AbortSignal): Promise<VisitDays> {
  const startedAt: string[] = []
  let token = ''
  for (let i = 0; i < VISIT_PAGES; i++) {
    const r = await call('registry', 'ListVisits', { campaign_id: campaignId, region_code: regionCode, page_size: 500, page_token: token }, { signal })
    for (const v of r.visits ?? []) if (v.started_at) startedAt.push(v.started_at)
    token = r.next_page_token ?? ''
    if (!token) return { startedAt, capped: false }
  }
  return { startedAt, capped: true }
}

export interface Item {
  issue_id: string
  item_no: number
  description: string
  region_code: string
  deadline: string
  days_left: number | null
  state: string
}

const OPEN_STATES = [
  'ISSUE_STATE_OPEN',
  'ISSUE_STATE_ASSIGNED',
  'ISSUE_STATE_IN_PROGRESS',
  'ISSUE_STATE_ESCALATED',
  'ISSUE_STATE_REOPENED',
] as const

function item(i: {
  issue_id?: string
  item_no?: number
  description?: string
  region_code?: string
  deadline?: string
  state?: string
}): Item {
  return {
    issue_id: i.issue_id ?? '',
    item_no: i.item_no ?? 0,
    description: i.description ?? '',
    region_code: i.region_code ?? '',
    deadline: i.deadline ?? '',
    days_left: i.deadline ? daysUntil(i.deadline) : null,
    state: i.state ?? '',
  }
}

/** Overdue items (red), first page of the ledger's own overdue filter. */
export async function overdueItems(campaignId: string, regionCode: string, limit = 8): Promise<{ items: Item[]; more: boolean }> {
  const r = await call('issues', 'ListIssues', { campaign_id: campaignId, region_code: regionCode, overdue_only: true, page_size: limit })
  return { items: (r.issues ?? []).map(item), more: !!r.next_page_token }
}

/** Open items due within `days` days (yellow): a page of each open state, earliest deadline first. */
export async function dueSoonItems(campaignId: string, regionCode: string, days = 3, limit = 8): Promise<Item[]> {
  const pages = await Promise.all(
    OPEN_STATES.map((state) =>
      call('issues', 'ListIssues', { campaign_id: campaignId, region_code: regionCode, state, page_size: 100 }).then(
        (r) => r.issues ?? [],
      ),
    ),
  )
  const now = Date.now()
  return pages
    .flat()
    .map(item)
    .filter((i) => i.deadline && new Date(i.deadline).getTime() >= now && i.days_left !== null && i.days_left <= days)
    .sort((a, b) => a.deadline.localeCompare(b.deadline))
    .slice(0, limit)
}

/** Pages of open petition cases read for the clock chart (200 a page). */
export const CASE_PAGES = 10

/** Days left on each open case's statutory clock (null: none running). */
export async function openCaseClocks(regionCode: string): Promise<{ days: (number | null)[]; capped: boolean }> {
  const days: (number | null)[] = []
  let token = ''
  for (let i = 0; i < CASE_PAGES; i++) {
    const r = await call('petition', 'ListCases', { region_code: regionCode, open_only: true, page_size: 200, page_token: token })
    for (const c of r.cases ?? []) days.push(c.due_at ? daysUntil(c.due_at) : null)
    token = r.next_page_token ?? ''
    if (!token) return { days, capped: false }
  }
  return { days, capped: true }
}
