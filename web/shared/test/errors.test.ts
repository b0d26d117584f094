import { describe, expect, it, vi } from 'vitest'
import { ApiError, errorFromResponse, errorMessage } from '../src/api/errors'
import { call } from '../src/api/rpc'
import { fakeGateway } from './helpers'

describe('ApiError', () => {
  it('keeps a Chinese message and maps each field', () => {
    const e = new ApiError(400, {
      code: 'invalid_argument',
      message: 'region_code: 须为12位行政区划代码',
      field_errors: [
        { field: 'region_code', reason: '须为12位行政区划代码' },
        { field: 'quotas[0].target', reason: '指标须大于0' },
      ],
    })
    expect(e.message).toBe('region_code: 须为12位行政区划代码')
    expect(e.code).toBe('invalid_argument')
    expect(e.fieldReason('region_code')).toBe('须为12位行政区划代码')
    expect(e.fieldReason('target')).toBe('指标须大于0')
    expect(e.fieldReason('name')).toBeUndefined()
    expect(e.fieldMap()).toMatchObject({ 'quotas[0].target': '指标须大于0', target: '指标须大于0' })
  })

  it('gives English server messages a Chinese text for their code', () => {
    const e = new ApiError(500, { code: 'internal', message: 'internal error; it has been logged' })
    expect(e.message).toBe('系统内部错误，已记录，请稍后重试')
    expect(e.serverMessage).toBe('internal error; it has been logged')
    expect(new ApiError(503, { code: 'unavailable', message: 'briefly unavailable' }).message).toBe(
      '服务暂时不可用，请稍后重试',
    )
  })

  it('derives the code from the status when the body is not the gateway shape', async () => {
    const e = await errorFromResponse(new Response('<html>bad gateway</html>', { status: 502 }))
    expect(e.code).toBe('unavailable')
    expect(e.message).toBe('服务暂时不可用，请稍后重试')
    expect((await errorFromResponse(new Response('', { status: 404 }))).code).toBe('not_found')
  })

  it('turns any thrown value into a Chinese message', () => {
    expect(errorMessage(new TypeError('x is undefined'))).toBe('系统内部错误，已记录，请稍后重试')
    expect(errorMessage(ApiError.network())).toBe('网络连接失败，请检查网络后重试')
  })
})

describe('call', () => {
  it('posts the body to /v1/<service>/<Method> and answers the data', async () => {
    const seen = fakeGateway(() => ({ status: 200, body: { regions: [{ code: '430426107000', name: '白地市镇' }] } }))
    const r = await call('registry', 'ListRegions', { parent_code: '430426000000' })
    expect(r.regions?.[0]?.name).toBe('白地市镇')
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/v1/registry/ListRegions', body: { parent_code: '430426000000' } })
  })

  it('throws the gateway error typed, with its fields', async () => {
    fakeGateway(() => ({
      status: 400,
      body: { code: 'invalid_argument', message: '请求有误', field_errors: [{ field: 'parent_code', reason: '须为12位数字' }] },
    }))
    const err = await call('registry', 'ListRegions', { parent_code: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(400)
    expect((err as ApiError).fieldReason('parent_code')).toBe('须为12位数字')
  })

  it('reports a 401 to the app (back to sign-in), but not for the session routes', async () => {
    const onUnauthorized = vi.fn()
    fakeGateway(() => ({ status: 401, body: { code: 'unauthenticated', message: '登录已失效' } }), onUnauthorized)
    await expect(call('issues', 'ListIssues', {})).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('a network failure is an ApiError with status 0', async () => {
    const { configureApi } = await import('../src/api/client')
    configureApi({ fetch: () => Promise.reject(new TypeError('Failed to fetch')) })
    const err = (await call('registry', 'ListRegions', {}).catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
    expect(err.code).toBe('network')
  })
})
