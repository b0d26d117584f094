/**
 * Names for the ids a ledger or petition page shows (regions, households,
 * cadres, accounts), read through the list RPCs the caller may use and
 * cached for the life of the tab. Each lookup fills a reactive map, so a
 * template shows the name as soon as it arrives and the id never.
 */
import { api, call, regionCodeOfScope, type RpcResponse } from '@zoufang/shared'
import { reactive } from 'vue'

export type Cadre = NonNullable<RpcResponse<'registry', 'ListCadres'>['cadres']>[number]
export type Region = NonNullable<RpcResponse<'registry', 'ListRegions'>['regions']>[number]

export const regionNames = reactive<Record<string, string>>({})
export const householdNames = reactive<Record<string, string>>({})
export const cadreNames = reactive<Record<string, string>>({})
/** Sign-in accounts by user id (timeline actors, departments). */
export const accountNames = reactive<Record<string, string>>({})

const childrenOf = new Map<string, Promise<Region[]>>()

/** The regions directly under `parent` (a 12-digit code; '' for the top). */
export function regionChildren(parent: string): Promise<Region[]> {
  let p = childrenOf.get(parent)
  if (!p) {
    p = call('registry', 'ListRegions', { parent_code: parent })
      .then((r) => {
        const regions = r.regions ?? []
        for (const x of regions) if (x.code && x.name) regionNames[x.code] = x.name
        return regions
      })
      .catch(() => {
        childrenOf.delete(parent)
        return []
      })
    childrenOf.set(parent, p)
  }
  return p
}

/** The 12-digit code of the region a code lies in, one level up. */
export function parentCode(code: string): string {
  const c = regionCodeOfScope(code)
  if (c.slice(9) !== '000') return `${c.slice(0, 9)}000`
  if (c.slice(6, 9) !== '000') return `${c.slice(0, 6)}000000`
  if (c.slice(4, 6) !== '00') return `${c.slice(0, 4)}00000000`
  if (c.slice(2, 4) !== '00') return `${c.slice(0, 2)}0000000000`
  return ''
}

/** The township of a code (12 digits). */
export function townshipOf(code: string): string {
  return `${regionCodeOfScope(code).slice(0, 9)}000`
}

/** Loads the name of `code` (by listing its parent's children). */
export async function loadRegionName(code: string): Promise<string | undefined> {
  if (!code) return undefined
  const full = regionCodeOfScope(code)
  if (regionNames[full]) return regionNames[full]
  await regionChildren(parentCode(full))
  return regionNames[full]
}

/** 蒋家桥镇 · 下坳村 for a village; the code itself until the names arrive. */
export function regionLabel(code: string | undefined, withTownship = true): string {
  if (!code) return '—'
  const full = regionCodeOfScope(code)
  const own = regionNames[full]
  if (!own) return '…'
  if (!withTownship || full.slice(9) === '000') return own
  const town = regionNames[townshipOf(full)]
  return town ? `${town} · ${own}` : own
}

/** Asks for the names of these regions and their townships. */
export function wantRegions(codes: (string | undefined)[]): void {
  for (const c of new Set(codes.filter((x): x is string => !!x))) {
    void loadRegionName(c)
    if (regionCodeOfScope(c).slice(9) !== '000') void loadRegionName(townshipOf(c))
  }
}

const householdsAsked = new Set<string>()

/** Asks for the head-of-household names of these households. */
export function wantHouseholds(ids: (string | undefined)[]): void {
  for (const id of new Set(ids.filter((x): x is string => !!x))) {
    if (householdsAsked.has(id)) continue
    householdsAsked.add(id)
    call('registry', 'GetHousehold', { household_id: id })
      .then((r) => {
        const h = r.household
        if (h) householdNames[id] = `${h.head_name || '户主'}户${h.group_name ? `（${h.group_name}）` : ''}`
      })
      .catch(() => {
        householdNames[id] = '（无权查看）'
      })
  }
}

const cadresOf = new Map<string, Promise<Cadre[]>>()

/** The cadres registered under a region (a township for the assign picker). */
export function cadresIn(region: string): Promise<Cadre[]> {
  const code = regionCodeOfScope(region)
  let p = cadresOf.get(code)
  if (!p) {
    p = call('registry', 'ListCadres', { region_code: code })
      .then((r) => {
        const list = r.cadres ?? []
        for (const c of list) if (c.cadre_id && c.name) cadreNames[c.cadre_id] = c.name
        return list
      })
      .catch(() => {
        cadresOf.delete(code)
        return []
      })
    cadresOf.set(code, p)
  }
  return p
}

export interface AccountLite {
  user_id: string
  display_name: string
  roles: string[]
}

let accounts: Promise<AccountLite[]> | null = null

/** The accounts the caller may list (admins); [] for everyone else. */
export function loadAccounts(): Promise<AccountLite[]> {
  accounts ??= api()
    .GET('/v1/accounts', {})
    .then(({ data }) => {
      const list = (data ?? []).map((a) => ({
        user_id: a.user_id ?? '',
        display_name: a.display_name ?? a.username ?? '',
        roles: a.roles ?? [],
      }))
      for (const a of list) if (a.user_id && a.display_name) accountNames[a.user_id] = a.display_name
      return list
    })
    .catch(() => [])
  return accounts
}

/** County departments with a sign-in account (the ones that can sign for an escalation). */
export async function departmentAccounts(): Promise<AccountLite[]> {
  return (await loadAccounts()).filter((a) => a.roles.includes('department'))
}

/** A person (timeline actor, assignee) by what is known of them. */
export function personLabel(id: string | undefined, self?: { user_id: string; display_name: string } | null): string {
  if (!id) return '—'
  if (id === 'system') return '系统'
  if (id === 'petition') return '信访系统'
  if (id.startsWith('import:')) return `批量导入（${id.slice(7)}）`
  if (self && id === self.user_id) return self.display_name
  return cadreNames[id] ?? accountNames[id] ?? id
}

/** A department by its account's name, or the name it was given. */
export function departmentLabel(id: string | undefined): string {
  if (!id) return '—'
  return accountNames[id] ?? id
}

/** Forgets everything (tests). */
export function resetNames(): void {
  for (const m of [regionNames, householdNames, cadreNames, accountNames]) for (const k of Object.keys(m)) delete m[k]
  childrenOf.clear()
  cadresOf.clear()
  householdsAsked.clear()
  accounts = null
}
