/**
 * The one API client of the browser apps: openapi-fetch typed by the
 * gateway's own OpenAPI document (`schema.d.ts`, `npm run gen`), with the
 * session cookie (`credentials: 'same-origin'`), the CSRF token on every
 * request that is not a GET or HEAD, errors as {@link ApiError}, and a
 * hook for 401 (the app sends the person back to sign in).
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import { ApiError } from './errors'
import type { paths } from './schema'

export type { paths } from './schema'
export type ApiClient = Client<paths>

export interface ApiOptions {
  /** Where the gateway is: '' (same origin) in the apps. */
  baseUrl?: string
  /** A fetch to use instead of the global one (tests). */
  fetch?: typeof fetch
  /**
   * Called when an authenticated request answers 401 (the session ended or
   * expired). Not called for the session endpoints themselves: a failed
   * sign-in or the start-up check is the caller's to handle.
   */
  onUnauthorized?: (err: ApiError) => void
}

/** The header the gateway checks against the session's CSRF token. */
export const CSRF_HEADER = 'X-CSRF-Token'

let csrfToken: string | null = null
let options: ApiOptions = {}
let client: ApiClient | null = null

/** The session's CSRF token, sent with every state-changing request. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

export function getCsrfToken(): string | null {
  return csrfToken
}

/** (Re)configures the client: base URL, fetch, the 401 hook. */
export function configureApi(next: ApiOptions): void {
  options = { ...options, ...next }
  client = null
}

/** The typed openapi-fetch client, for routes other than the RPCs (reports, imports…). */
export function api(): ApiClient {
  client ??= build()
  return client
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method.toUpperCase()) && csrfToken) {
      request.headers.set(CSRF_HEADER, csrfToken)
    }
    return request
  },
}

function build(): ApiClient {
  const c = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    credentials: 'same-origin',
    // Resolve the global fetch at call time, so a test's stub is seen.
    fetch: (input: Request) => (options.fetch ?? globalThis.fetch)(input),
  })
  c.use(csrfMiddleware)
  return c
}

/** Paths where a 401 means "not signed in (yet)", not "sent back to sign in". */
function isSessionPath(path: string): boolean {
  return path.startsWith('/v1/auth/session') || path.startsWith('/v1/auth/sign-in')
}

/** What openapi-fetch answers for one request. */
interface FetchResult<T> {
  data?: T
  error?: unknown
  response: Response
}

/**
 * Runs one openapi-fetch request: the data when ok; otherwise throws an
 * {@link ApiError} (and tells the app of a 401 outside the session routes).
 */
export async function send<T>(path: string, run: () => Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>
  try {
    result = await run()
  } catch (cause) {
    if (cause instanceof ApiError) throw cause
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause
    throw ApiError.network(cause)
  }
  const { data, error, response } = result
  if (response.ok) return data as T
  const body =
    error && typeof error === 'object'
      ? (error as Record<string, unknown>)
      : { message: typeof error === 'string' ? error : '' }
  const err = new ApiError(response.status, body as never)
  if (err.status === 401 && !isSessionPath(path)) options.onUnauthorized?.(err)
  throw err
}
