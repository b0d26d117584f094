/**
 * `call('registry', 'ListHouseholds', body)`: the gateway's RPC routes
 * (`POST /v1/<service>/<Method>`), with the request and response types read
 * from the OpenAPI document, so a renamed field fails `vue-tsc`.
 */
import { api, send } from './client'
import type { paths } from './schema'

type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } }
  ? B
  : never
type JsonOk<Op> = Op extends { responses: { 200: { content: { 'application/json': infer R } } } }
  ? R
  : never

/** Every `/v1/<service>/<Method>` path that takes a JSON body by POST. */
type RpcPath = {
  [P in keyof paths]: P extends `/v1/${string}/${string}`
    ? paths[P] extends { post: infer Op }
      ? JsonBody<Op> extends never
        ? never
        : P
      : never
    : never
}[keyof paths]

/** The services with RPC routes: registry, issues, supervision, notify, petition. */
export type RpcService = RpcPath extends `/v1/${infer S}/${string}` ? S : never

/** The methods of one service. */
export type RpcMethod<S extends RpcService> = RpcPath extends infer P
  ? P extends `/v1/${S}/${infer M}`
    ? M
    : never
  : never

type OpOf<S extends RpcService, M extends RpcMethod<S>> = `/v1/${S}/${M}` extends keyof paths
  ? paths[`/v1/${S}/${M}`] extends { post: infer Op }
    ? Op
    : never
  : never

/** The request body of an RPC. */
export type RpcRequest<S extends RpcService, M extends RpcMethod<S>> = JsonBody<OpOf<S, M>>
/** The response of an RPC. */
export type RpcResponse<S extends RpcService, M extends RpcMethod<S>> = JsonOk<OpOf<S, M>>

/** Calls one RPC; throws {@link ApiError} on any non-2xx answer. */
export function call<S extends RpcService, M extends RpcMethod<S>>(
  service: S,
  method: M,
  body: RpcRequest<S, M>,
  init?: { signal?: AbortSignal },
): Promise<RpcResponse<S, M>> {
  const path = `/v1/${service}/${method}`
  // The path is one of `paths` by construction; openapi-fetch's own
  // overloads cannot follow a computed path, so it goes through untyped.
  const untyped = api() as unknown as {
    POST(p: string, o: { body: unknown; signal?: AbortSignal }): Promise<never>
  }
  return send<RpcResponse<S, M>>(path, () =>
    untyped.POST(path, { body, signal: init?.signal }),
  )
}
