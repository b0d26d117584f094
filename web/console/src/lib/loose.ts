/**
 * RPCs that have landed on a backend branch but not yet in the OpenAPI
 * document this build is typed from (registry UpdateHousehold and
 * ListHouseholdHistory, supervision ListCallbacks, the household_id filter of
 * ListIssues): called through the same client (cookie, CSRF, errors), with
 * the types written here from the proto. Once `npm run gen` brings them in,
 * the callers can switch to `call()`.
 */
import { api, send } from '@zoufang/shared'

export function callLoose<T>(service: string, method: string, body: unknown): Promise<T> {
  const path = `/v1/${service}/${method}`
  const untyped = api() as unknown as { POST(p: string, o: { body: unknown }): Promise<never> }
  return send<T>(path, () => untyped.POST(path, { body }))
}

/** Whether an error says the route is not served yet (older stack). */
export function isMissingRoute(err: unknown): boolean {
  const e = err as { status?: number; serverMessage?: string }
  // An unknown route answers 404 with an empty body; a missing record names itself.
  return (
    (e?.status === 404 && !e.serverMessage) ||
    e?.status === 501 ||
    // A filter the running stack does not know yet.
    (e?.status === 400 && /unrecognized field/.test(e.serverMessage ?? ''))
  )
}

export interface HouseholdFieldChange {
  field?: string
  label?: string
  old_value?: string
  new_value?: string
}

export interface HouseholdEdit {
  version?: string | number
  actor?: string
  actor_roles?: string[]
  changed_at?: string
  changes?: HouseholdFieldChange[]
  note?: string
}

export interface UpdateHouseholdRequest {
  household_id: string
  expected_version: string | number
  address?: string
  group_name?: string
  phone?: string
  member_count?: number
  note: string
}
