import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import CaseActionDialog from '@/pages/petition/CaseActionDialog.vue'
import type { Case } from '@/pages/petition/clock'
import { fakeGateway } from '../../shared/test/helpers'

beforeEach(() => {
  setActivePinia(createPinia())
  document.body.innerHTML = ''
})

const kase: Case = { case_id: 'c-1', kind: 'CASE_KIND_PETITION', stage: 'STAGE_HANDLING', version: '2', extended: false }

async function settle() {
  for (let i = 0; i < 5; i++) await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}
const errorsShown = () => [...document.querySelectorAll('.el-form-item__error')].map((e) => e.textContent?.trim())
const submit = () => (document.querySelector('[data-test=case-submit]') as HTMLButtonElement).click()

describe('CaseActionDialog', () => {
  it('asks for the extension reason before sending', async () => {
    const seen = fakeGateway(() => ({ status: 200, body: {} }))
    mount(CaseActionDialog, { props: { kase, action: 'extend' }, attachTo: document.body })
    await settle()
    submit()
    await settle()
    await vi.waitFor(() => expect(errorsShown()).toEqual(['延期须说明理由']))
    expect(seen).toHaveLength(0)
  })

  it('says a second extension is refused, in Chinese', async () => {
    fakeGateway(() => ({
      status: 422,
      body: { code: 'failed_precondition', message: 'handling may be extended only once' },
    }))
    mount(CaseActionDialog, { props: { kase, action: 'extend' }, attachTo: document.body })
    await settle()
    const area = document.querySelector('.el-dialog textarea') as HTMLTextAreaElement
    area.value = '需要现场勘查'
    area.dispatchEvent(new Event('input'))
    await settle()
    submit()
    await settle()
    await vi.waitFor(() => expect(document.querySelector('.el-dialog .el-alert')?.textContent).toContain('只能延期一次'))
  })
})
