/**
 * Filters and RPCs that a running stack may not serve yet (a stack older
 * than the OpenAPI document this build is typed from): a page shows a
 * Chinese "not yet available" note instead of an error.
 */

/** Whether an error says the route or a field of the request is not served yet. */
export function isMissingRoute(err: unknown): boolean {
  const e = err as { status?: number; serverMessage?: string }
  return (
    // An unknown route answers 404 with an empty body; a missing record names itself.
    (e?.status === 404 && !e.serverMessage) ||
    e?.status === 501 ||
    // A filter the running stack does not know yet.
    (e?.status === 400 && /unrecognized field/.test(e.serverMessage ?? ''))
  )
}
