/**
 * Files from the gateway (exports, summaries): fetched with the session
 * cookie, errors read as the gateway's Chinese error, saved under the name
 * the gateway gives (Content-Disposition, RFC 5987) or a fallback.
 */
import { errorFromResponse } from '@zoufang/shared'

/** The file name of a Content-Disposition header, preferring `filename*`. */
export function dispositionName(header: string | null): string | null {
  if (!header) return null
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header)
  return plain?.[1]?.trim() ?? null
}

/** A URL with its query, empty values left out. */
export function withQuery(path: string, query: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === null || v === undefined || v === '') continue
    q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/** GETs a file; throws the gateway's error (Chinese) when it is not ok. */
export async function fetchFile(url: string, signal?: AbortSignal): Promise<{ blob: Blob; name: string | null }> {
  const response = await fetch(url, { credentials: 'same-origin', signal })
  if (!response.ok) throw await errorFromResponse(response)
  return { blob: await response.blob(), name: dispositionName(response.headers.get('content-disposition')) }
}

/** Saves a blob as a download. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Fetches and saves a file in one go. */
export async function download(url: string, fallbackName: string): Promise<void> {
  const { blob, name } = await fetchFile(url)
  saveBlob(blob, name ?? fallbackName)
}
