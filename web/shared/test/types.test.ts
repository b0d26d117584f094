// The RPC helper is typed from the OpenAPI document: these lines must fail
// the type check (`npm run typecheck`) if the typing ever loosens.
import { describe, expect, it } from 'vitest'
import type { RpcMethod, RpcRequest, RpcResponse } from '../src/api/rpc'

describe('call() types', () => {
  it('knows services, methods and snake_case fields', () => {
    const ok: RpcRequest<'registry', 'ListRegions'> = { parent_code: '430426000000' }
    // @ts-expect-error camelCase is not the contract's spelling
    const camel: RpcRequest<'registry', 'ListRegions'> = { parentCode: '430426000000' }
    // @ts-expect-error no such method
    const method: RpcMethod<'registry'> = 'ListNothing'
    const listed: RpcMethod<'issues'> = 'ListIssues'
    type Regions = NonNullable<RpcResponse<'registry', 'ListRegions'>['regions']>
    const level: NonNullable<Regions[number]['level']> = 'REGION_LEVEL_VILLAGE'
    // @ts-expect-error enum values are checked
    const badLevel: NonNullable<Regions[number]['level']> = 'VILLAGE'
    expect([ok, camel, method, listed, level, badLevel]).toHaveLength(6)
  })
})
