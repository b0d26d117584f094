/**
 * Money: the API carries amounts in fen (分) as integers (proto int64, so a
 * string in JSON); people read yuan with two decimals.
 */

/** 123456 (fen) → "1,234.56"; with `unit`, "1,234.56 元". Invalid → '—'. */
export function fenToYuan(fen: number | string | bigint | null | undefined, unit = false): string {
  if (fen === null || fen === undefined || fen === '') return '—'
  let n: bigint
  try {
    n = typeof fen === 'bigint' ? fen : BigInt(typeof fen === 'number' ? Math.round(fen) : fen.trim())
  } catch {
    return '—'
  }
  const neg = n < 0n
  const abs = neg ? -n : n
  const yuan = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const cents = (abs % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}${yuan}.${cents}${unit ? ' 元' : ''}`
}

/** "1,234.5" or "1234.56" (yuan, as typed in a form) → fen as a decimal string; null if invalid. */
export function yuanToFen(yuan: string | number): string | null {
  const text = String(yuan).replace(/[,，\s元]/g, '')
  const m = /^(-)?(\d+)(?:\.(\d{0,2}))?$/.exec(text)
  if (!m) return null
  const fen = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0') || '0')
  return (m[1] ? -fen : fen).toString()
}
