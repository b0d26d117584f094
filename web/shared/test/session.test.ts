import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { getCsrfToken } from '../src/api/client'
import { ApiError } from '../src/api/errors'
import { call } from '../src/api/rpc'
import { useSessionStore } from '../src/stores/session'
import { fakeGateway, USER, type Seen } from './helpers'

beforeEach(() => setActivePinia(createPinia()))

/** A gateway with one account (wangfang / abc12345) and cookie sessions. */
function gateway(opts: { mustChange?: boolean } = {}) {
  let signedIn = false
  let mustChange = opts.mustChange ?? false
  const session = () => ({ csrf_token: 'csrf-1', user: { ...USER, must_change_password: mustChange } })
  return fakeGateway((r: Seen) => {
    if (r.path === '/v1/auth/session' && r.method === 'GET') {
      return signedIn ? { status: 200, body: session() } : { status: 401, body: { code: 'unauthenticated', message: '未登录' } }
    }
    if (r.path === '/v1/auth/session' && r.method === 'POST') {
      const b = r.body as { username: string; password: string }
      if (b.username === 'wangfang' && b.password === 'abc12345') {
        signedIn = true
        return { status: 200, body: session() }
      }
      return { status: 401, body: { code: 'unauthenticated', message: '用户名或密码错误' } }
    }
    if (r.path === '/v1/auth/session' && r.method === 'DELETE') {
      if (r.headers.get('X-CSRF-Token') !== 'csrf-1') return { status: 403, body: { code: 'permission_denied', message: 'CSRF 校验失败' } }
      signedIn = false
      return { status: 204 }
    }
    if (r.path === '/v1/auth/password') {
      mustChange = false
      return { status: 200, body: {} }
    }
    return { status: 200, body: {} }
  })
}

describe('session store', () => {
  it('restores nothing without a cookie, once', async () => {
    const seen = gateway()
    const s = useSessionStore()
    await Promise.all([s.restore(), s.restore()])
    expect(s.checked).toBe(true)
    expect(s.signedIn).toBe(false)
    await s.restore()
    expect(seen.filter((r) => r.method === 'GET')).toHaveLength(1)
  })

  it('signs in, keeps the CSRF token and sends it on state-changing requests only', async () => {
    const seen = gateway()
    const s = useSessionStore()
    await s.signIn('wangfang', 'abc12345')
    expect(s.signedIn).toBe(true)
    expect(s.displayName).toBe('王芳')
    expect(s.roleText).toBe('乡镇管理员')
    expect(s.hasRole('township_admin', 'county_admin')).toBe(true)
    expect(s.hasRole('supervisor')).toBe(false)
    expect(getCsrfToken()).toBe('csrf-1')
    expect(seen[0]!.headers.get('X-CSRF-Token')).toBeNull()

    await call('registry', 'ListRegions', { parent_code: '' })
    expect(seen[1]!.headers.get('X-CSRF-Token')).toBe('csrf-1')
  })

  it('a wrong password leaves the store signed out with the gateway message', async () => {
    gateway()
    const s = useSessionStore()
    const err = (await s.signIn('wangfang', 'nope').catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.message).toBe('用户名或密码错误')
    expect(s.signedIn).toBe(false)
  })

  it('restores a session from the cookie', async () => {
    gateway()
    await useSessionStore().signIn('wangfang', 'abc12345')
    setActivePinia(createPinia()) // a reload: the store is new, the cookie stays
    const s = useSessionStore()
    await s.restore()
    expect(s.user?.username).toBe('wangfang')
    expect(getCsrfToken()).toBe('csrf-1')
  })

  it('signs out with the CSRF token and forgets everything', async () => {
    const seen = gateway()
    const s = useSessionStore()
    await s.signIn('wangfang', 'abc12345')
    await s.signOut()
    const del = seen.find((r) => r.method === 'DELETE')!
    expect(del.headers.get('X-CSRF-Token')).toBe('csrf-1')
    expect(s.signedIn).toBe(false)
    expect(getCsrfToken()).toBeNull()
  })

  it('a forced password change clears the flag', async () => {
    gateway({ mustChange: true })
    const s = useSessionStore()
    await s.signIn('wangfang', 'abc12345')
    expect(s.mustChangePassword).toBe(true)
    await s.changePassword('abc12345', 'new12345')
    expect(s.mustChangePassword).toBe(false)
    expect(s.signedIn).toBe(true)
  })
})
