import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import LoginForm from '@/components/LoginForm.vue'
import { fakeGateway, USER, type Seen } from '../../shared/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

function gateway(answer: (r: Seen) => { status: number; body?: unknown }) {
  return fakeGateway(answer)
}

async function fillAndSubmit(wrapper: ReturnType<typeof mount>, username: string, password: string) {
  await wrapper.find('input[data-test=username]').setValue(username)
  await wrapper.find('input[data-test=password]').setValue(password)
  await wrapper.find('form').trigger('submit')
  // validation, the request, the store, the re-render
  for (let i = 0; i < 5; i++) await flushPromises()
  // Element Plus shows a form item's error on its next render.
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

/** The messages under the form's fields, in order. */
function errorsShown(wrapper: ReturnType<typeof mount>): string[] {
  return wrapper.findAll('.el-form-item__error').map((e) => e.text())
}

describe('LoginForm', () => {
  it('asks for both fields before sending anything', async () => {
    const seen = gateway(() => ({ status: 200, body: {} }))
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, '', '')
    await vi.waitFor(() => expect(errorsShown(wrapper)).toEqual(['请输入用户名', '请输入密码']))
    expect(seen).toHaveLength(0)
    expect(wrapper.emitted('signedIn')).toBeUndefined()
  })

  it('signs in and emits the user', async () => {
    const seen = gateway(() => ({ status: 200, body: { csrf_token: 't', user: USER } }))
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, ' wangfang ', 'abc12345')
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/v1/auth/session', body: { username: 'wangfang', password: 'abc12345' } })
    expect(wrapper.emitted('signedIn')?.[0]?.[0]).toMatchObject({ username: 'wangfang' })
  })

  it('shows a refusal above the button and clears the password', async () => {
    gateway(() => ({ status: 401, body: { code: 'unauthenticated', message: 'invalid credentials' } }))
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, 'wangfang', 'wrong123')
    expect(wrapper.find('[data-test=failure]').text()).toContain('用户名或密码错误')
    expect((wrapper.find('input[data-test=password]').element as HTMLInputElement).value).toBe('')
    expect(wrapper.emitted('signedIn')).toBeUndefined()
  })

  it('shows a locked account in the gateway\'s words', async () => {
    gateway(() => ({ status: 423, body: { code: 'locked', message: '账号已锁定，请 15 分钟后再试' } }))
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, 'wangfang', 'wrong123')
    expect(wrapper.find('[data-test=failure]').text()).toContain('账号已锁定，请 15 分钟后再试')
  })

  it('puts a named field\'s reason under that field', async () => {
    gateway(() => ({
      status: 400,
      body: { code: 'invalid_argument', message: 'username: 用户名过长', field_errors: [{ field: 'username', reason: '用户名过长' }] },
    }))
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, 'x'.repeat(300), 'abc12345')
    await vi.waitFor(() => expect(errorsShown(wrapper)).toEqual(['用户名过长']))
    expect(wrapper.find('[data-test=failure]').exists()).toBe(false)
  })

  it('says so when the gateway cannot be reached', async () => {
    fakeGateway(() => {
      throw new TypeError('Failed to fetch')
    })
    const wrapper = mount(LoginForm)
    await fillAndSubmit(wrapper, 'wangfang', 'abc12345')
    expect(wrapper.find('[data-test=failure]').text()).toContain('网络连接失败')
  })
})
