/**
 * Names instead of codes and ids, for one page: regions (through
 * ListRegions of the parent, one call per parent), households (GetHousehold,
 * masked, one call each) and accounts (GET /v1/accounts for admins). Each
 * lookup is cached for the life of the page; a failed lookup leaves the
 * fallback text rather than an id.
 */
import { api, call, send } from '@zoufang/shared'
import { reactive } from 'vue'

function parentOf(code: string): string | null {
  if (!/^\d{12}$/.test(code)) return null
  if (code.slice(9) !== '000') return `${code.slice(0, 9)}000`
  if (code.slice(6, 9) !== '000') return `${code.slice(0, 6)}000000`
  if (code.slice(4, 6) !== '00') return `${code.slice(0, 4)}00000000`
  return null
}

/** A 12-digit code for a prefix or a code. */
export function fullCode(code: string): string {
  return code.padEnd(12, '0').slice(0, 12)
}

export interface AccountLite {
  user_id?: string
  display_name?: string
  username?: string
  roles?: string[]
  scope?: string
}

export function useNames() {
  const regions = reactive<Record<string, string>>({})
  const households = reactive<Record<string, { head_name?: string; address?: string; village_code?: string }>>({})
  const people = reactive<Record<string, string>>({})
  const asked = new Set<string>()

  async function loadChildren(parent: string) {
    const key = `r:${parent}`
    if (asked.has(key)) return
    asked.add(key)
    try {
      const r = await call('registry', 'ListRegions', { parent_code: parent })
      for (const g of r.regions ?? []) if (g.code) regions[g.code] = g.name ?? g.code
    } catch {
      /* outside the caller's scope: the code stays */
    }
  }

  /** Looks the regions up (their parents' children); returns when done. */
  async function resolveRegions(codes: (string | undefined)[]) {
    const parents = new Set<string>()
    for (const c of codes) {
      if (!c) continue
      const code = fullCode(c)
      if (regions[code]) continue
      const p = parentOf(code)
      if (p) parents.add(p)
      // A village's township too, for "乡镇 · 村".
      const pp = p && parentOf(p)
      if (pp && code.slice(9) !== '000') parents.add(pp)
    }
    await Promise.all([...parents].map(loadChildren))
  }

  /** 蒋家桥镇 · 蒋家桥社区 for a village, the name for a township or county. */
  function regionName(code: string | undefined, fallback = '—'): string {
    if (!code) return fallback
    const full = fullCode(code)
    const own = regions[full]
    if (!own) return fallback === '—' ? code : fallback
    if (full.slice(9) !== '000') {
      const town = regions[`${full.slice(0, 9)}000`]
      return town ? `${town} · ${own}` : own
    }
    return own
  }

  async function resolveHouseholds(ids: (string | undefined)[]) {
    const todo = [...new Set(ids.filter((id): id is string => !!id && !households[id] && !asked.has(`h:${id}`)))]
    await Promise.all(
      todo.map(async (id) => {
        asked.add(`h:${id}`)
        try {
          const r = await call('registry', 'GetHousehold', { household_id: id })
          const h = r.household
          if (h) households[id] = { head_name: h.head_name, address: h.address, village_code: h.village_code }
        } catch {
          /* not visible: shown as 未知农户 */
        }
      }),
    )
  }

  function householdName(id: string | undefined): string {
    if (!id) return '—'
    const h = households[id]
    return h?.head_name ? `${h.head_name}户` : '（农户信息不可见）'
  }

  /** Accounts under the caller's scope (admins only; others keep the fallback). */
  async function resolvePeople() {
    if (asked.has('accounts')) return
    asked.add('accounts')
    try {
      const untyped = api() as unknown as { GET(p: string, o: object): Promise<never> }
      const list = await send<AccountLite[]>('/v1/accounts', () => untyped.GET('/v1/accounts', {}))
      for (const a of list ?? []) if (a.user_id) people[a.user_id] = a.display_name || a.username || a.user_id
    } catch {
      /* not an admin */
    }
  }

  async function resolveCadres(regionCode: string) {
    const key = `c:${regionCode}`
    if (asked.has(key)) return
    asked.add(key)
    try {
      const r = await call('registry', 'ListCadres', { region_code: regionCode })
      for (const c of r.cadres ?? []) if (c.cadre_id) people[c.cadre_id] = c.name ?? c.cadre_id
    } catch {
      /* not visible */
    }
  }

  function personName(id: string | undefined, fallback = '（未登记姓名）'): string {
    if (!id) return '—'
    return people[id] ?? fallback
  }

  return { regions, households, people, resolveRegions, regionName, resolveHouseholds, householdName, resolvePeople, resolveCadres, personName }
}
