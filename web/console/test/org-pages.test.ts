import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { useSessionStore } from '@zoufang/shared'
import { fakeGateway, type Seen } from '../../shared/test/helpers'
import CadreOnboardPage from '@/pages/cadres/CadreOnboardPage.vue'
import CampaignEditPage from '@/pages/campaigns/CampaignEditPage.vue'
import { useNamesStore } from '@/org/names'

// Element Plus pages mount slowly on a busy machine.
vi.setConfig({ testTimeout: 30_000 })

const TOWNSHIP_ADMIN = {
  user_id: 'township-1',
  username: 'township',
  display_name: '乡镇管理员',
  roles: ['township_admin' as const],
  scope: '430426102',
  must_change_password: false,
}

const REGIONS: Record<string, unknown[]> = {
  '430426000000': [{ code: '430426102000', name: '蒋家桥镇', level: 'REGION_LEVEL_TOWNSHIP', parent_code: '430426000000', kind: '镇' }],
  '430426102000': [{ code: '430426102201', name: '下坳村', level: 'REGION_LEVEL_VILLAGE', parent_code: '430426102000', kind: '村委会' }],
}

/** The registry's lists every page reads, and whatever `extra` answers. */
function gateway(extra: (s: Seen) => { status: number; body?: unknown } | undefined) {
  return fakeGateway((s) => {
    const own = extra(s)
    if (own) return own
    if (s.path === '/v1/registry/ListRegions')
      return { status: 200, body: { regions: REGIONS[(s.body as { parent_code: string }).parent_code] ?? [] } }
    if (s.path === '/v1/registry/ListCadres') return { status: 200, body: { cadres: [] } }
    return { status: 404, body: { code: 'not_found', message: 'no route' } }
  })
}

/** A form item shows its error after a 100 ms debounce. */
async function settle() {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 150))
  await flushPromises()
}

async function mountPage(component: unknown, path = '/') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<div />' } },
      { path: '/cadres/new', component: CadreOnboardPage },
      { path: '/campaigns/new', component: CampaignEditPage },
      { path: '/campaigns/:id', component: { template: '<div>detail</div>' } },
      { path: '/cadres/:id', component: { template: '<div />' } },
      { path: '/cadres', component: { template: '<div />' } },
    ],
  })
  await router.push(path)
  await router.isReady()
  const w = mount(component as never, { global: { plugins: [router], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

beforeEach(() => {
  setActivePinia(createPinia())
  useSessionStore().user = { ...TOWNSHIP_ADMIN }
  document.body.innerHTML = ''
})

describe('新增干部 (one-step onboarding)', () => {
  it('sends one request and shows the initial password once, with the first-sign-in rule', async () => {
    const seen = gateway((s) =>
      s.path === '/v1/people/cadres'
        ? {
            status: 201,
            body: {
              cadre: { cadre_id: (s.body as { cadre_id: string }).cadre_id, name: '李四', phone: '138****1111', unit: 'township_office', position: '工作队员', region_code: '430426102', roles: ['cadre'] },
              account: { account_id: 'a-1', username: '13800001111', user_id: 'x' },
              initial_password: 'Kx7pQ2mZ9rTb',
              must_change_password: true,
              account_created: true,
            },
          }
        : undefined,
    )
    const { w } = await mountPage(CadreOnboardPage, '/cadres/new')
    await w.find('input[data-test=cadre-name]').setValue('李四')
    await w.find('input[data-test=cadre-phone]').setValue('13800001111')
    // 职务 through the component's state: the select's dropdown lives outside the form.
    ;(w.vm as unknown as { $: { setupState: { form: { position: string } } } }).$.setupState.form.position = '工作队员'
    await w.find('form').trigger('submit')
    await flushPromises()

    const posts = seen.filter((s) => s.path === '/v1/people/cadres')
    expect(posts).toHaveLength(1)
    expect(posts[0]!.body).toMatchObject({ name: '李四', phone: '13800001111', unit: 'township_office', position: '工作队员', region_code: '430426102000', roles: ['cadre'] })
    expect((posts[0]!.body as { cadre_id: string }).cadre_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(w.find('[data-test=initial-password]').text()).toBe('Kx7pQ2mZ9rTb')
    expect(w.find('[data-test=username]').text()).toBe('13800001111')
    expect(w.text()).toContain('只显示这一次')
    expect(w.text()).toContain('首次登录时系统会要求其修改密码')
    expect(w.find('[data-test=copy-password]').exists()).toBe(true)
    w.unmount()
  })

  it('shows the gateway’s reason beside the field it names', async () => {
    gateway((s) =>
      s.path === '/v1/people/cadres'
        ? { status: 400, body: { code: 'invalid_argument', message: '提交的内容有误', field_errors: [{ field: 'username', reason: '登录账号已被占用' }] } }
        : undefined,
    )
    const { w } = await mountPage(CadreOnboardPage, '/cadres/new')
    await w.find('input[data-test=cadre-name]').setValue('李四')
    await w.find('input[data-test=cadre-phone]').setValue('13800001111')
    ;(w.vm as unknown as { $: { setupState: { form: { position: string } } } }).$.setupState.form.position = '工作队员'
    await w.find('form').trigger('submit')
    await settle()
    const item = w.findAll('.el-form-item').find((i) => i.text().includes('登录账号'))!
    expect(item.classes()).toContain('is-error')
    expect(item.find('.el-form-item__error').text()).toBe('登录账号已被占用')
    expect(w.find('[data-test=initial-password]').exists()).toBe(false)
    w.unmount()
  })
})

describe('新建走访活动', () => {
  it('creates a planned campaign of the admin’s township with the defaults and one id', async () => {
    const seen = gateway((s) =>
      s.path === '/v1/registry/CreateCampaign'
        ? { status: 200, body: { campaign: { ...(s.body as object) } } }
        : undefined,
    )
    const { w, router } = await mountPage(CampaignEditPage, '/campaigns/new')
    await w.find('input[data-test=campaign-name]').setValue('2026年冬季大走访')
    await w.find('form').trigger('submit')
    await flushPromises()
    const posts = seen.filter((s) => s.path === '/v1/registry/CreateCampaign')
    expect(posts).toHaveLength(1)
    const body = posts[0]!.body as Record<string, unknown>
    expect(body).toMatchObject({ name: '2026年冬季大走访', region_code: '430426102000', status: 'CAMPAIGN_STATUS_PLANNED', completeness_policy: 'COMPLETENESS_POLICY_FLAG' })
    expect(body.quotas).toEqual([{ position: '', metric: 'QUOTA_METRIC_HOUSEHOLDS_VISITED', target: '30', min_amount_fen: '0' }])
    expect(router.currentRoute.value.path).toBe(`/campaigns/${body.campaign_id as string}`)
    w.unmount()
  })

  it('refuses an empty name before sending anything', async () => {
    const seen = gateway(() => undefined)
    const { w } = await mountPage(CampaignEditPage, '/campaigns/new')
    await w.find('input[data-test=campaign-name]').setValue('')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(seen.filter((s) => s.path === '/v1/registry/CreateCampaign')).toHaveLength(0)
    await settle()
    expect(w.text()).toContain('请填写活动名称')
    w.unmount()
  })
})

describe('the names store', () => {
  it('loads a parent’s list once and names regions and cadres from it', async () => {
    const seen = gateway((s) =>
      s.path === '/v1/registry/ListCadres'
        ? { status: 200, body: { cadres: [{ cadre_id: 'c-1', name: '伍小军', phone: '138****0011', unit: 'CADRE_UNIT_TOWNSHIP_OFFICE', position: '工作队员', region_code: '430426102', roles: ['cadre'] }] } }
        : undefined,
    )
    const names = useNamesStore()
    expect(names.regionName('430426102201')).toBe('430426102201')
    await Promise.all([names.ensureRegions(['430426102201']), names.ensureRegions(['430426102201'])])
    expect(names.regionName('430426102201')).toBe('下坳村')
    await names.ensureRegions(['430426102000'])
    expect(names.regionPath('430426102201')).toBe('蒋家桥镇 · 下坳村')
    expect(names.regionName('430426102')).toBe('蒋家桥镇')
    await Promise.all([names.cadresOf('430426102'), names.cadresOf('430426102')])
    expect(names.cadreName('c-1')).toBe('伍小军')
    expect(names.cadreName('nobody')).toBe('（未知干部）')
    expect(seen.filter((s) => s.path === '/v1/registry/ListRegions')).toHaveLength(2)
    expect(seen.filter((s) => s.path === '/v1/registry/ListCadres')).toHaveLength(1)
  })
})
