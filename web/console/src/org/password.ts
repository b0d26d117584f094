/** A random initial password: 12 characters, no look-alikes (0/O, 1/l/I). */
export function randomPassword(length = 12): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const bytes = new Uint32Array(length)
  crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += alphabet[b % alphabet.length]
  // At least one digit and one letter, as password rules usually ask.
  if (!/\d/.test(out)) out = `${out.slice(0, -1)}7`
  if (!/[a-z]/i.test(out)) out = `k${out.slice(1)}`
  return out
}
