/** A fake gateway for tests: records requests, answers from a handler. */
import { configureApi, setCsrfToken } from '../src/api/client'

export interface Seen {
  method: string
  path: string
  headers: Headers
  body: unknown
}

export type Handler = (req: Seen) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>

export function fakeGateway(handler: Handler, onUnauthorized?: () => void) {
  const seen: Seen[] = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(String(input), init)
    const text = await req.text()
    const s: Seen = {
      method: req.method,
      path: new URL(req.url, 'http://localhost').pathname,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    }
    seen.push(s)
    const { status, body } = await handler(s)
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  setCsrfToken(null)
  configureApi({ baseUrl: 'http://localhost', fetch: fetch as typeof globalThis.fetch, onUnauthorized })
  return seen
}

export const USER = {
  user_id: 'u-1',
  username: 'wangfang',
  display_name: '王芳',
  roles: ['township_admin'],
  scope: '430426107',
  must_change_password: false,
}
