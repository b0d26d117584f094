import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, type Router } from 'vue-router'
import { createConsoleRouter, safeRedirect } from '@/router'
import { ANY, MENU_GROUPS, PAGES, homeFor, menuFor } from '@/router/routes'
import { ROLES, type Role } from '@zoufang/shared'
import { fakeGateway, USER } from '../../shared/test/helpers'

let pinia: Pinia
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
})

/** A router over a gateway where `roles` are signed in (or nobody). */
function routerFor(roles: Role[] | null, mustChange = false): Router {
  fakeGateway((r) =>
    r.path === '/v1/auth/session' && roles
      ? { status: 200, body: { csrf_token: 't', user: { ...USER, roles, must_change_password: mustChange } } }
      : { status: 401, body: { code: 'unauthenticated', message: '未登录' } },
  )
  return createConsoleRouter(pinia, createMemoryHistory())
}

async function land(router: Router, path: string): Promise<string> {
  await router.push(path).catch(() => undefined)
  return router.currentRoute.value.fullPath
}

// The first navigations compile the lazy pages (Element Plus and all): slow cold.
describe('the guard', { timeout: 60_000 }, () => {
  it('sends the signed-out to sign in, remembering the page', async () => {
    expect(await land(routerFor(null), '/issues/0b7c')).toBe('/login?redirect=/issues/0b7c')
    expect(await land(routerFor(null), '/')).toBe('/login')
  })

  it('lets a notification link land for any signed-in person', async () => {
    for (const role of ROLES) {
      setActivePinia((pinia = createPinia()))
      expect(await land(routerFor([role]), '/issues/0b7c')).toBe('/issues/0b7c')
    }
    setActivePinia((pinia = createPinia()))
    expect(await land(routerFor(['supervisor']), '/callbacks/c1')).toBe('/callbacks/c1')
  })

  it('sends a cadre away from admin pages with 403', async () => {
    const router = routerFor(['cadre'])
    expect(await land(router, '/dashboard')).toBe('/403?from=/dashboard')
    expect(router.currentRoute.value.name).toBe('forbidden')
    expect(await land(router, '/accounts')).toBe('/403?from=/accounts')
    expect(await land(router, '/org/assignments')).toBe('/403?from=/org/assignments')
  })

  it('holds a person whose password must change on that page', async () => {
    const router = routerFor(['township_admin'], true)
    expect(await land(router, '/campaigns')).toBe('/password?redirect=/campaigns')
  })

  it('sends `/` to the person\'s home page', async () => {
    expect(await land(routerFor(['township_admin']), '/')).toBe('/dashboard')
    setActivePinia((pinia = createPinia()))
    expect(await land(routerFor(['supervisor']), '/')).toBe('/callbacks')
    setActivePinia((pinia = createPinia()))
    expect(await land(routerFor(['department']), '/')).toBe('/issues')
    setActivePinia((pinia = createPinia()))
    expect(await land(routerFor(['petition_bureau']), '/')).toBe('/petitions')
    setActivePinia((pinia = createPinia()))
    expect(await land(routerFor(['cadre']), '/')).toBe('/inbox')
  })

  it('takes the signed-in away from the sign-in page', async () => {
    expect(await land(routerFor(['county_admin']), '/login?redirect=/issues/x')).toBe('/issues/x')
  })

  it('answers an unknown path with the 404 page inside the layout', async () => {
    const router = routerFor(['county_admin'])
    await land(router, '/no/such/page')
    expect(router.currentRoute.value.name).toBe('not-found')
  })
})

describe('safeRedirect', () => {
  it('keeps local paths only', () => {
    expect(safeRedirect('/issues/1?tab=2')).toBe('/issues/1?tab=2')
    for (const bad of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'issues', '/login?redirect=/x', undefined, 3]) {
      expect(safeRedirect(bad)).toBeNull()
    }
  })
})

describe('the page table', () => {
  it('has unique names and paths, each page in a known group or reached from one', () => {
    const names = PAGES.map((p) => p.name)
    const paths = PAGES.map((p) => p.path)
    expect(new Set(names).size).toBe(names.length)
    expect(new Set(paths).size).toBe(paths.length)
    const groups = new Set<string>(MENU_GROUPS.map((g) => g.key))
    for (const p of PAGES) {
      expect(p.menu ? groups.has(p.menu) : !!p.activeMenu, p.name).toBe(true)
      expect(p.roles === ANY || p.roles.length > 0, p.name).toBe(true)
    }
  })

  it('offers every group to a county admin, in order, and a cadre only the inbox', () => {
    expect(menuFor(['county_admin']).map((g) => g.title)).toEqual([
      '驾驶舱', '走访活动', '组织架构', '干部', '户档案', '民情台账', '督查回访', '信访', '数据', '消息', '账号管理',
    ])
    expect(menuFor(['cadre']).flatMap((g) => g.items.map((i) => i.path))).toEqual(['/inbox'])
    expect(homeFor(['department'])).toBe('/issues')
  })
})
