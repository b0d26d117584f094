/**
 * Dates and times as a person in China reads them: Beijing time (UTC+8, no
 * daylight saving) whatever the browser's zone. The API speaks RFC 3339
 * timestamps and `YYYY-MM-DD` Beijing days.
 */
const BEIJING_OFFSET_MS = 8 * 3600 * 1000

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null
  const d = value instanceof Date ? value : new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

const pad = (n: number) => String(n).padStart(2, '0')

/** The Beijing wall-clock parts of an instant. */
function parts(d: Date) {
  const b = new Date(d.getTime() + BEIJING_OFFSET_MS)
  return {
    y: b.getUTCFullYear(),
    mo: b.getUTCMonth() + 1,
    d: b.getUTCDate(),
    h: b.getUTCHours(),
    mi: b.getUTCMinutes(),
    s: b.getUTCSeconds(),
  }
}

/** 2026-12-07 21:05 (Beijing), or '—' when absent or invalid. */
export function formatDateTime(value: string | number | Date | null | undefined, seconds = false): string {
  const d = toDate(value)
  if (!d) return '—'
  const p = parts(d)
  const hm = `${pad(p.h)}:${pad(p.mi)}${seconds ? `:${pad(p.s)}` : ''}`
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${hm}`
}

/** 2026-12-07 (the Beijing day of an instant; a bare `YYYY-MM-DD` stays as is). */
export function formatDate(value: string | number | Date | null | undefined): string {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = toDate(value)
  if (!d) return '—'
  const p = parts(d)
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`
}

/** Today's Beijing day as `YYYY-MM-DD`. */
export function beijingToday(now: Date = new Date()): string {
  return formatDate(now)
}

/**
 * Whole days from `now` until `deadline` (negative once past), counted in
 * Beijing days: the statutory clocks and ledger deadlines read this way.
 */
export function daysUntil(deadline: string | Date, now: Date = new Date()): number | null {
  const d = toDate(deadline)
  if (!d) return null
  const day = (x: Date) => Math.floor((x.getTime() + BEIJING_OFFSET_MS) / 86_400_000)
  return day(d) - day(now)
}

/** 3 分钟前, 2 小时前, 昨天 21:05, or the date-time for older instants. */
export function formatRelative(value: string | number | Date | null | undefined, now: Date = new Date()): string {
  const d = toDate(value)
  if (!d) return '—'
  const secs = Math.round((now.getTime() - d.getTime()) / 1000)
  if (secs >= 0 && secs < 60) return '刚刚'
  if (secs >= 0 && secs < 3600) return `${Math.floor(secs / 60)} 分钟前`
  if (secs >= 0 && secs < 86_400 && daysUntil(d, now) === 0) return `${Math.floor(secs / 3600)} 小时前`
  if (daysUntil(d, now) === -1) return `昨天 ${formatDateTime(d).slice(11)}`
  return formatDateTime(d)
}
