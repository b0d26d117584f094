import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import IssueActionDialog from '@/pages/issues/IssueActionDialog.vue'
import { resetNames } from '@/components/ledger/names'
import type { Issue } from '@/pages/issues/ledger'
import { fakeGateway } from '../../shared/test/helpers'

beforeEach(() => {
  setActivePinia(createPinia())
  resetNames()
  document.body.innerHTML = ''
})

const issue: Issue = {
  issue_id: '11111111-1111-1111-1111-111111111111',
  state: 'ISSUE_STATE_IN_PROGRESS',
  version: '4',
  region_code: '430426102201',
  responsible_cadre_id: 'c-1',
}

async function settle() {
  for (let i = 0; i < 5; i++) await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

function errorsShown(): string[] {
  return [...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent?.trim() ?? '')
}

function submit() {
  ;(document.querySelector('[data-test=action-submit]') as HTMLButtonElement).click()
}

describe('IssueActionDialog', () => {
  it('asks for the resolution in Chinese before sending anything', async () => {
    const seen = fakeGateway(() => ({ status: 200, body: {} }))
    mount(IssueActionDialog, { props: { issue, action: 'resolve' }, attachTo: document.body })
    await settle()
    submit()
    await settle()
    await vi.waitFor(() => expect(errorsShown()).toEqual(['请填写办理结果']))
    expect(seen).toHaveLength(0)
  })

  it('sends the resolution with the version it read and emits the new item', async () => {
    const seen = fakeGateway(() => ({ status: 200, body: { issue: { ...issue, state: 'ISSUE_STATE_RESOLVED', version: '5' } } }))
    const wrapper = mount(IssueActionDialog, { props: { issue, action: 'resolve' }, attachTo: document.body })
    await settle()
    const area = document.querySelector('textarea[data-test=resolution]') as HTMLTextAreaElement
    area.value = '  已修好  '
    area.dispatchEvent(new Event('input'))
    await settle()
    submit()
    await settle()
    await vi.waitFor(() => expect(wrapper.emitted('done')).toBeTruthy())
    expect(seen[0]).toMatchObject({
      path: '/v1/issues/ResolveIssue',
      body: { issue_id: issue.issue_id, expected_version: '4', resolution: '已修好' },
    })
    expect(wrapper.emitted('done')![0]![0]).toMatchObject({ state: 'ISSUE_STATE_RESOLVED' })
  })

  it('shows the gateway refusing a cadre outside the township under the picker, in Chinese', async () => {
    fakeGateway((r) => {
      if (r.path === '/v1/registry/ListCadres') {
        return { status: 200, body: { cadres: [{ cadre_id: 'c-1', name: '伍小军', position: '工作队员' }] } }
      }
      return {
        status: 400,
        body: {
          code: 'invalid_argument',
          message: 'invalid argument: cadre_id: is outside the issue township',
          field_errors: [{ field: 'cadre_id', reason: 'is outside the issue township' }],
        },
      }
    })
    const wrapper = mount(IssueActionDialog, { props: { issue, action: 'assign' }, attachTo: document.body })
    await settle()
    submit()
    await settle()
    await vi.waitFor(() => expect(errorsShown()).toEqual(['该干部不属于事项所在乡镇']))
    expect(wrapper.emitted('done')).toBeUndefined()
  })

  it('says a stale version plainly', async () => {
    fakeGateway(() => ({ status: 409, body: { code: 'conflict', message: 'issue changed since you read it' } }))
    mount(IssueActionDialog, { props: { issue, action: 'start' }, attachTo: document.body })
    await settle()
    submit()
    await settle()
    await vi.waitFor(() =>
      expect(document.querySelector('[data-test=action-error]')?.textContent).toContain('已被他人更新'),
    )
  })
})
