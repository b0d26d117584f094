/**
 * The session store: who is signed in, their roles and scope. `restore()`
 * runs once at app start (GET /v1/auth/session); a 401 anywhere later calls
 * `expire()` through the client's hook.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import {
  changePassword as postPassword,
  createSession,
  deleteSession,
  readSession,
  type SessionUser,
} from '../api/auth'
import { setCsrfToken } from '../api/client'
import { ApiError } from '../api/errors'
import { roleLabel, type Role } from '../roles'

export const useSessionStore = defineStore('session', () => {
  const user = ref<SessionUser | null>(null)
  /** Whether the start-up check has answered (signed in or not). */
  const checked = ref(false)
  let restoring: Promise<SessionUser | null> | null = null

  const signedIn = computed(() => user.value !== null)
  const roles = computed<Role[]>(() => user.value?.roles ?? [])
  const mustChangePassword = computed(() => !!user.value?.must_change_password)
  const displayName = computed(() => user.value?.display_name || user.value?.username || '')
  /** The roles in Chinese, joined: 乡镇管理员、督查员. */
  const roleText = computed(() => roles.value.map(roleLabel).join('、'))

  function hasRole(...wanted: readonly Role[]): boolean {
    return wanted.some((r) => roles.value.includes(r))
  }

  /** Reads the session from the cookie, once (concurrent callers share the answer). */
  function restore(): Promise<SessionUser | null> {
    if (checked.value) return Promise.resolve(user.value)
    restoring ??= readSession()
      .then((body) => (user.value = body.user))
      .catch((err: unknown) => {
        // 401: not signed in. Anything else (gateway away): not signed in
        // either, and the sign-in page will show the real error on submit.
        if (!(err instanceof ApiError)) throw err
        user.value = null
        return null
      })
      .finally(() => {
        checked.value = true
        restoring = null
      })
    return restoring
  }

  async function signIn(username: string, password: string): Promise<SessionUser> {
    const body = await createSession(username, password)
    user.value = body.user
    checked.value = true
    return body.user
  }

  async function signOut(): Promise<void> {
    try {
      await deleteSession()
    } catch {
      // Signed out locally whatever the gateway said (an expired session
      // answers 401): the cookie is useless to us from here on.
    } finally {
      expire()
    }
  }

  /** The password changes; the session is read again (the flag clears). */
  async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await postPassword(oldPassword, newPassword)
    try {
      const body = await readSession()
      user.value = body.user
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) expire()
      else if (user.value) user.value = { ...user.value, must_change_password: false }
    }
  }

  /** Forgets the session locally (signed out, or a 401 arrived). */
  function expire(): void {
    user.value = null
    checked.value = true
    setCsrfToken(null)
  }

  return {
    user,
    checked,
    signedIn,
    roles,
    mustChangePassword,
    displayName,
    roleText,
    hasRole,
    restore,
    signIn,
    signOut,
    changePassword,
    expire,
  }
})
