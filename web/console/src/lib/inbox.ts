/** Where a notification leads in the console: its link's path, else its subject's page. */
const PAGES: Record<string, string> = {
  issue: '/issues/',
  callback: '/callbacks/',
  case: '/petitions/',
  petition: '/petitions/',
  household: '/households/',
}

const KNOWN = /^\/(issues|callbacks|petitions|households|campaigns)\/[^/]+$/

export function notificationPath(n: { link?: string; subject_type?: string; subject_id?: string }): string | null {
  const link = (n.link ?? '').trim()
  if (link) {
    let path = link
    try {
      path = new URL(link, 'http://x').pathname
    } catch {
      /* a bare path */
    }
    if (KNOWN.test(path)) return path
  }
  const base = PAGES[(n.subject_type ?? '').toLowerCase()]
  return base && n.subject_id ? `${base}${n.subject_id}` : null
}
