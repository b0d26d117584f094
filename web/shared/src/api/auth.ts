/**
 * The browser session (cookie + CSRF token):
 * - `POST /v1/auth/session {username, password}` → 200 {@link SessionBody}
 *   and an HttpOnly cookie;
 * - `GET /v1/auth/session` → the same body while the cookie is valid, 401 otherwise;
 * - `DELETE /v1/auth/session` (with the CSRF token) signs out;
 * - `POST /v1/auth/password {old_password, new_password}`.
 */
import { api, send, setCsrfToken } from './client'
import type { Role } from '../roles'

/** The signed-in person, as the session endpoints answer. */
export interface SessionUser {
  user_id: string
  username: string
  display_name: string
  roles: Role[]
  /** A region-code prefix: '' everywhere, 430426 a county, 430426107 a township. */
  scope: string
  must_change_password: boolean
}

export interface SessionBody {
  /** Null for a caller signed in with a bearer token (API clients), not a cookie. */
  csrf_token: string | null
  user: SessionUser
}

// The session routes are typed here rather than from the document, so the
// client works whether or not the document lists them yet.
type Untyped = {
  GET(p: string, o?: object): Promise<never>
  POST(p: string, o: { body: unknown }): Promise<never>
  DELETE(p: string, o?: object): Promise<never>
}
const raw = () => api() as unknown as Untyped

export const SESSION_PATH = '/v1/auth/session'
export const PASSWORD_PATH = '/v1/auth/password'

/** Signs in; keeps the CSRF token for the requests that follow. */
export async function createSession(username: string, password: string): Promise<SessionBody> {
  const body = await send<SessionBody>(SESSION_PATH, () =>
    raw().POST(SESSION_PATH, { body: { username, password } }),
  )
  setCsrfToken(body.csrf_token)
  return body
}

/** The current session from the cookie (401 → ApiError with status 401). */
export async function readSession(): Promise<SessionBody> {
  const body = await send<SessionBody>(SESSION_PATH, () => raw().GET(SESSION_PATH))
  setCsrfToken(body.csrf_token)
  return body
}

/** Signs out; the token is forgotten whatever the answer. */
export async function deleteSession(): Promise<void> {
  try {
    await send<unknown>(SESSION_PATH, () => raw().DELETE(SESSION_PATH))
  } finally {
    setCsrfToken(null)
  }
}

export async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
  await send<unknown>(PASSWORD_PATH, () =>
    raw().POST(PASSWORD_PATH, { body: { old_password: oldPassword, new_password: newPassword } }),
  )
}
