import { describe, expect, it } from 'vitest'
import { checkForm, createBody, dayStart, defaultForm, formOf, periodOf, updateBody } from '@/org/campaign'
import { byName, grantableRoles, maskPhone, naturalKey, notYetMessage } from '@/org/labels'
import { parentOfRegion } from '@/org/names'
import { checkOnboard, emptyOnboardForm, onboardBody } from '@/org/onboard'
import { randomPassword } from '@/org/password'
import { campaignOptionLabel, pick } from '@/org/useCampaigns'

describe('the campaign form', () => {
  it('turns Beijing days into the period’s instants, the end exclusive', () => {
    expect(dayStart('2026-11-08')).toBe('2026-11-07T16:00:00Z')
    const f = defaultForm('430426102000', new Date('2026-12-07T21:00:00Z'))
    expect(f.period).toEqual(['2026-12-08', '2027-02-05'])
    const body = createBody({ ...f, period: ['2026-11-08', '2027-01-06'] }, 'c-1')
    expect(body.starts_at).toBe('2026-11-07T16:00:00Z')
    expect(body.ends_at).toBe('2027-01-06T16:00:00Z')
    expect(body.status).toBe('CAMPAIGN_STATUS_PLANNED')
    expect(body.region_code).toBe('430426102000')
    expect(periodOf(body.starts_at, body.ends_at)).toEqual(['2026-11-08', '2027-01-06'])
  })

  it('carries quotas with money in fen and reads them back in yuan', () => {
    const f = defaultForm('430426000000')
    f.quotas = [
      { position: ' 工作队员 ', metric: 'QUOTA_METRIC_HOUSEHOLDS_HELPED', target: 5, min_amount_yuan: '100' },
      { position: '', metric: 'QUOTA_METRIC_VISITS', target: 20, min_amount_yuan: '50' },
    ]
    const body = updateBody(f, 'c-1')
    expect(body).not.toHaveProperty('region_code')
    expect(body).not.toHaveProperty('status')
    expect(body.quotas).toEqual([
      { position: '工作队员', metric: 'QUOTA_METRIC_HOUSEHOLDS_HELPED', target: '5', min_amount_fen: '10000' },
      { position: '', metric: 'QUOTA_METRIC_VISITS', target: '20', min_amount_fen: '0' },
    ])
    const back = formOf({ ...body, region_code: '430426000000' })
    expect(back.quotas[0]).toEqual({ position: '工作队员', metric: 'QUOTA_METRIC_HOUSEHOLDS_HELPED', target: 5, min_amount_yuan: '100.00' })
    expect(back.quotas[1]!.min_amount_yuan).toBe('')
  })

  it('names what the browser can see is wrong, by the contract’s field', () => {
    const f = defaultForm('430426102000')
    f.name = ' '
    f.period = ['2026-12-10', '2026-12-01']
    f.quotas[0]!.target = 0
    expect(checkForm(f).map((p) => p.field)).toEqual(['name', 'period', 'quotas[0].target'])
    expect(checkForm(defaultForm('430426102000'))).toEqual([])
  })

  it('preselects the asked campaign, else the active one', () => {
    const list = [
      { campaign_id: 'a', status: 'CAMPAIGN_STATUS_CLOSED', name: '旧' },
      { campaign_id: 'b', status: 'CAMPAIGN_STATUS_ACTIVE', name: '今' },
      { campaign_id: 'c', status: 'CAMPAIGN_STATUS_PLANNED', name: '新' },
    ] as never[]
    expect(pick(list)).toBe('b')
    expect(pick(list, 'c')).toBe('c')
    expect(pick(list, 'missing')).toBe('b')
    expect(pick([])).toBe('')
    expect(campaignOptionLabel(list[0]!)).toBe('旧（已结束）')
  })
})

describe('onboarding a cadre', () => {
  it('checks the form and leaves out what is empty', () => {
    const f = emptyOnboardForm('430426102000')
    expect(Object.keys(checkOnboard(f))).toEqual(['name', 'username', 'position'])
    Object.assign(f, { name: ' 李四 ', phone: '1380000', position: '工作队员' })
    expect(checkOnboard(f)).toEqual({ phone: '手机号应为 11 位数字' })
    f.phone = '13800001111'
    expect(checkOnboard(f)).toEqual({})
    expect(onboardBody(f, 'id-1')).toEqual({
      cadre_id: 'id-1',
      name: '李四',
      phone: '13800001111',
      unit: 'township_office',
      position: '工作队员',
      region_code: '430426102000',
      roles: ['cadre'],
    })
  })
})

describe('organisation helpers', () => {
  it('finds a region’s parent from its code', () => {
    expect(parentOfRegion('430426102201')).toBe('430426102000')
    expect(parentOfRegion('430426102000')).toBe('430426000000')
    expect(parentOfRegion('430426102')).toBe('430426000000')
    expect(parentOfRegion('430426000000')).toBe('430400000000')
  })

  it('orders 第二 before 第十 and 第十一', () => {
    const names = ['镇第十一片区', '镇第二片区', '镇第十片区', '镇第一片区']
    expect([...names].sort(byName((x) => x))).toEqual(['镇第一片区', '镇第二片区', '镇第十片区', '镇第十一片区'])
    expect(naturalKey('第二十三队')).toBe('第0023队')
  })

  it('masks phones, offers roles by reach, reads a missing route', () => {
    expect(maskPhone('13812345678')).toBe('138****5678')
    expect(maskPhone('138****5678')).toBe('138****5678')
    expect(grantableRoles(false)).toEqual(['cadre', 'township_admin', 'supervisor'])
    expect(grantableRoles(true)).toContain('county_admin')
    expect(notYetMessage({ status: 404, fieldErrors: [] }, '工作队')).toContain('尚未开通')
    expect(notYetMessage({ status: 404, fieldErrors: [{ field: 'x' }] }, '工作队')).toBeNull()
    expect(notYetMessage({ status: 400 }, '工作队')).toBeNull()
  })

  it('makes passwords without look-alike characters', () => {
    for (let i = 0; i < 50; i++) {
      const p = randomPassword()
      expect(p).toHaveLength(12)
      expect(p).not.toMatch(/[0O1lI]/)
      expect(p).toMatch(/\d/)
    }
  })
})

describe('包保 from a sheet', () => {
  it('sends the file as the body, with its type, the campaign, the mode and the CSRF token', async () => {
    const { configureApi, setCsrfToken } = await import('@zoufang/shared')
    const { importAssignments } = await import('@/org/api')
    const seen: Request[] = []
    configureApi({
      baseUrl: 'http://localhost',
      fetch: (async (req: Request) => {
        seen.push(req)
        return new Response(JSON.stringify({ job_id: 'j-1', state: 'running' }), { status: 202, headers: { 'content-type': 'application/json' } })
      }) as typeof fetch,
    })
    setCsrfToken('tok')
    const file = new File(['干部姓名,村\n张三,下坳村\n'], '包保.csv', { type: 'text/csv' })
    const job = await importAssignments('c-1', file, 'good_rows_only')
    expect(job.job_id).toBe('j-1')
    const req = seen[0]!
    const url = new URL(req.url)
    expect(url.pathname).toBe('/v1/import/assignments')
    expect(url.searchParams.get('campaign_id')).toBe('c-1')
    expect(url.searchParams.get('mode')).toBe('good_rows_only')
    expect(req.method).toBe('POST')
    expect(req.headers.get('content-type')).toBe('text/csv')
    expect(req.headers.get('x-csrf-token')).toBe('tok')
    expect(await req.text()).toBe('干部姓名,村\n张三,下坳村\n')
    setCsrfToken(null)
  })
})
