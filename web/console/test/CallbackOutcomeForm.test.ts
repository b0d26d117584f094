import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import CallbackOutcomeForm from '@/components/supervision/CallbackOutcomeForm.vue'
import { fakeGateway } from '../../shared/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

const CALLBACK = { callback_id: 'cb-1', subject: 'CALLBACK_SUBJECT_VISIT' as const, state: 'CALLBACK_STATE_OPEN' as const }

async function settle() {
  for (let i = 0; i < 5; i++) await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

describe('CallbackOutcomeForm', () => {
  it('refuses an outcome without the visit answer, in Chinese, before sending', async () => {
    const seen = fakeGateway(() => ({ status: 200, body: {} }))
    const wrapper = mount(CallbackOutcomeForm, { props: { callback: CALLBACK } })
    const vm = wrapper.vm as unknown as { form: Record<string, unknown>; submit: () => Promise<void> }
    vm.form.result = 'reached'
    await settle()
    await vm.submit()
    await settle()
    await vi.waitFor(() =>
      expect(wrapper.findAll('.el-form-item__error').map((e) => e.text())).toContain('请选择群众是否确认干部上门走访'),
    )
    expect(wrapper.find('[data-test=form-error]').text()).toBe('请按提示补全回访记录')
    expect(seen).toHaveLength(0)
  })

  it('sends the outcome and emits the callback; a field error lands beside its field', async () => {
    let reject = true
    const seen = fakeGateway(() =>
      reject
        ? {
            status: 400,
            body: {
              code: 'invalid_argument',
              message: 'invalid argument',
              field_errors: [{ field: 'answered_member_count', reason: 'must be between 1 and 50' }],
            },
          }
        : { status: 200, body: { callback: { ...CALLBACK, state: 'CALLBACK_STATE_DONE', attempts: 1 } } },
    )
    const wrapper = mount(CallbackOutcomeForm, { props: { callback: CALLBACK } })
    const vm = wrapper.vm as unknown as { form: Record<string, unknown>; submit: () => Promise<void> }
    Object.assign(vm.form, { result: 'reached', visit_confirmed: 'yes', member_count: 4, help_yuan: '0' })
    await settle()
    await vm.submit()
    await settle()
    await vi.waitFor(() => expect(wrapper.findAll('.el-form-item__error').map((e) => e.text())).toContain('家庭人口填写有误'))
    expect(seen[0]!.path).toBe('/v1/supervision/RecordAttempt')
    expect(seen[0]!.body).toMatchObject({ callback_id: 'cb-1', reached: true, visit_confirmed: true, answered_member_count: 4, answered_help_fen: '0' })
    reject = false
    await vm.submit()
    await settle()
    expect(wrapper.emitted('recorded')?.[0]?.[0]).toMatchObject({ state: 'CALLBACK_STATE_DONE' })
  })
})
