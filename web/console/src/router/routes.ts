/**
 * THE table of console pages: each page's path, title, the roles that may
 * open it and where it sits in the menu. The router, the guard, the sidebar
 * and the home redirect all read this one list; a page author adds a row
 * here and a component under `pages/<area>/`.
 *
 * Roles decide what a person is offered; the services still enforce scope
 * and role on every call, so this table is convenience, not security.
 */
import type { Role } from '@zoufang/shared'
import type { Component } from 'vue'
import type { RouteComponent } from 'vue-router'
import {
  Bell,
  Briefcase,
  DataAnalysis,
  Document,
  FolderOpened,
  House,
  Lock,
  Odometer,
  OfficeBuilding,
  Phone,
  Tickets,
  User,
} from '@element-plus/icons-vue'

/** Every signed-in person, whatever the role (the page itself decides what it shows). */
export const ANY = 'any' as const
export type Allowed = readonly Role[] | typeof ANY

const ADMINS = ['township_admin', 'county_admin'] as const satisfies readonly Role[]

/** Sidebar groups, in menu order. */
export const MENU_GROUPS = [
  { key: 'dashboard', title: '驾驶舱', icon: Odometer },
  { key: 'campaigns', title: '走访活动', icon: Briefcase },
  { key: 'org', title: '组织架构', icon: OfficeBuilding },
  { key: 'cadres', title: '干部', icon: User },
  { key: 'households', title: '户档案', icon: House },
  { key: 'ledger', title: '民情台账', icon: Tickets },
  { key: 'supervision', title: '督查回访', icon: Phone },
  { key: 'petition', title: '信访', icon: Document },
  { key: 'data', title: '数据', icon: DataAnalysis },
  { key: 'messages', title: '消息', icon: Bell },
  { key: 'accounts', title: '账号管理', icon: Lock },
] as const satisfies readonly { key: string; title: string; icon: Component }[]

export type MenuGroupKey = (typeof MENU_GROUPS)[number]['key']

export interface PageDef {
  path: string
  name: string
  /** The page's Chinese title: the menu entry, the breadcrumb, the tab title. */
  title: string
  roles: Allowed
  /** Lazy: every page is its own chunk. */
  component: () => Promise<RouteComponent>
  /** The sidebar group; absent for pages reached from another page (details, forms). */
  menu?: MenuGroupKey
  /** For pages outside the menu: the menu entry to highlight. */
  activeMenu?: string
}

// Each `import()` below is a separate chunk (route-level code splitting).
export const PAGES: PageDef[] = [
  // 驾驶舱
  { path: '/dashboard', name: 'dashboard', title: '驾驶舱', roles: ADMINS, menu: 'dashboard',
    component: () => import('@/pages/dashboard/DashboardPage.vue') },

  // 走访活动
  { path: '/campaigns', name: 'campaigns', title: '走访活动', roles: [...ADMINS, 'supervisor'], menu: 'campaigns',
    component: () => import('@/pages/campaigns/CampaignListPage.vue') },
  { path: '/attainment', name: 'attainment', title: '任务完成情况', roles: [...ADMINS, 'supervisor'], menu: 'campaigns',
    component: () => import('@/pages/campaigns/AttainmentPage.vue') },
  { path: '/campaigns/new', name: 'campaign-new', title: '新建走访活动', roles: ADMINS, activeMenu: '/campaigns',
    component: () => import('@/pages/campaigns/CampaignEditPage.vue') },
  { path: '/campaigns/:id', name: 'campaign', title: '活动详情', roles: [...ADMINS, 'supervisor'], activeMenu: '/campaigns',
    component: () => import('@/pages/campaigns/CampaignDetailPage.vue') },
  { path: '/campaigns/:id/edit', name: 'campaign-edit', title: '编辑走访活动', roles: ADMINS, activeMenu: '/campaigns',
    component: () => import('@/pages/campaigns/CampaignEditPage.vue') },

  // 组织架构
  { path: '/org/regions', name: 'regions', title: '行政区划', roles: ADMINS, menu: 'org',
    component: () => import('@/pages/org/RegionsPage.vue') },
  { path: '/org/zones', name: 'zones', title: '工作片', roles: ADMINS, menu: 'org',
    component: () => import('@/pages/org/WorkZonesPage.vue') },
  { path: '/org/teams', name: 'teams', title: '工作队', roles: ADMINS, menu: 'org',
    component: () => import('@/pages/org/TeamsPage.vue') },
  { path: '/org/assignments', name: 'assignments', title: '包保安排', roles: ADMINS, menu: 'org',
    component: () => import('@/pages/org/AssignmentsPage.vue') },

  // 干部
  { path: '/cadres', name: 'cadres', title: '干部名册', roles: ADMINS, menu: 'cadres',
    component: () => import('@/pages/cadres/CadreListPage.vue') },
  { path: '/cadres/new', name: 'cadre-new', title: '新增干部', roles: ADMINS, activeMenu: '/cadres',
    component: () => import('@/pages/cadres/CadreOnboardPage.vue') },
  { path: '/cadres/:id', name: 'cadre', title: '干部详情', roles: ADMINS, activeMenu: '/cadres',
    component: () => import('@/pages/cadres/CadreDetailPage.vue') },

  // 户档案
  { path: '/households', name: 'households', title: '户档案查询', roles: [...ADMINS, 'supervisor'], menu: 'households',
    component: () => import('@/pages/households/HouseholdSearchPage.vue') },
  { path: '/households/:id', name: 'household', title: '一户一档', roles: [...ADMINS, 'supervisor'], activeMenu: '/households',
    component: () => import('@/pages/households/HouseholdDetailPage.vue') },

  // 民情台账
  { path: '/issues', name: 'issues', title: '台账事项', menu: 'ledger',
    // A cadre sees the items of their scope, filtered to their own by default.
    roles: [...ADMINS, 'department', 'supervisor', 'petition_bureau', 'cadre'],
    component: () => import('@/pages/issues/IssueListPage.vue') },
  // Notification links land here (LINK_BASE_URL/issues/<id>), for whoever
  // they were sent to: the ledger decides what the person may see.
  { path: '/issues/:id', name: 'issue', title: '事项详情', roles: ANY, activeMenu: '/issues',
    component: () => import('@/pages/issues/IssueDetailPage.vue') },
  { path: '/ledger/settings', name: 'ledger-settings', title: '分类与办理时限', roles: ['county_admin'], menu: 'ledger',
    component: () => import('@/pages/issues/LedgerSettingsPage.vue') },

  // 督查回访
  { path: '/callbacks', name: 'callbacks', title: '回访任务', roles: ['supervisor', 'county_admin'], menu: 'supervision',
    component: () => import('@/pages/supervision/CallbackWorklistPage.vue') },
  // Notification links land here (LINK_BASE_URL/callbacks/<id>).
  { path: '/callbacks/:id', name: 'callback', title: '回访', roles: ['supervisor', 'county_admin'], activeMenu: '/callbacks',
    component: () => import('@/pages/supervision/CallbackDetailPage.vue') },
  { path: '/supervision/signals', name: 'signals', title: '异常信号', roles: ['supervisor', 'county_admin'], menu: 'supervision',
    component: () => import('@/pages/supervision/SignalsPage.vue') },
  { path: '/supervision/inspections', name: 'inspections', title: '督查记录', roles: ['supervisor', ...ADMINS], menu: 'supervision',
    component: () => import('@/pages/supervision/InspectionsPage.vue') },
  { path: '/supervision/assessment', name: 'assessment', title: '干部考核', roles: ['supervisor', ...ADMINS], menu: 'supervision',
    component: () => import('@/pages/supervision/AssessmentPage.vue') },
  { path: '/supervision/teams', name: 'supervision-teams', title: '督查组与抽样', roles: ['supervisor', 'county_admin'], menu: 'supervision',
    component: () => import('@/pages/supervision/SupervisionTeamsPage.vue') },

  // 信访
  { path: '/petitions', name: 'petitions', title: '信访件', roles: ['petition_bureau', ...ADMINS], menu: 'petition',
    component: () => import('@/pages/petition/CaseListPage.vue') },
  { path: '/petitions/sources', name: 'petition-sources', title: '对接系统', roles: ['petition_bureau', 'county_admin'], menu: 'petition',
    component: () => import('@/pages/petition/SourcesPage.vue') },
  { path: '/petitions/:id', name: 'petition', title: '信访件详情', roles: ['petition_bureau', ...ADMINS], activeMenu: '/petitions',
    component: () => import('@/pages/petition/CaseDetailPage.vue') },

  // 数据
  { path: '/data/imports', name: 'imports', title: '数据导入', roles: ADMINS, menu: 'data',
    component: () => import('@/pages/data/ImportsPage.vue') },
  { path: '/data/imports/:jobId', name: 'import-job', title: '导入进度', roles: ADMINS, activeMenu: '/data/imports',
    component: () => import('@/pages/data/ImportJobPage.vue') },
  { path: '/data/exports', name: 'exports', title: '数据导出', roles: [...ADMINS, 'supervisor'], menu: 'data',
    component: () => import('@/pages/data/ExportsPage.vue') },
  { path: '/data/summary', name: 'summary', title: '活动总结', roles: [...ADMINS, 'supervisor'], menu: 'data',
    component: () => import('@/pages/data/SummaryPage.vue') },

  // 消息
  { path: '/inbox', name: 'inbox', title: '消息中心', roles: ANY, menu: 'messages',
    component: () => import('@/pages/messages/InboxPage.vue') },
  { path: '/messages/templates', name: 'templates', title: '通知模板', roles: ['county_admin'], menu: 'messages',
    component: () => import('@/pages/messages/TemplatesPage.vue') },
  { path: '/messages/subscriptions', name: 'subscriptions', title: '群机器人与推送', roles: ADMINS, menu: 'messages',
    component: () => import('@/pages/messages/SubscriptionsPage.vue') },

  // 账号管理
  { path: '/accounts', name: 'accounts', title: '账号列表', roles: ADMINS, menu: 'accounts',
    component: () => import('@/pages/accounts/AccountListPage.vue') },
]

/** Whether a person with `roles` may open a page allowed to `allowed`. */
export function mayOpen(allowed: Allowed, roles: readonly Role[]): boolean {
  return allowed === ANY || allowed.some((r) => roles.includes(r))
}

/** The sidebar for a person: the groups with at least one page they may open. */
export function menuFor(roles: readonly Role[]) {
  return MENU_GROUPS.map((g) => ({
    ...g,
    items: PAGES.filter((p) => p.menu === g.key && mayOpen(p.roles, roles)),
  })).filter((g) => g.items.length > 0)
}

/** Where `/` leads: the first menu page the person may open (the inbox for everyone else). */
export function homeFor(roles: readonly Role[]): string {
  const order = ['dashboard', 'callbacks', 'petitions', 'issues', 'campaigns']
  for (const name of order) {
    const p = PAGES.find((x) => x.name === name)
    if (p && mayOpen(p.roles, roles)) return p.path
  }
  return menuFor(roles)[0]?.items[0]?.path ?? '/inbox'
}
