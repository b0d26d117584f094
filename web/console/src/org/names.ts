/**
 * Names instead of codes and ids: regions (by code, loaded a parent at a
 * time through ListRegions) and cadres (by id, loaded a region at a time
 * through ListCadres). Each list is fetched once per page visit and shared
 * by every component that asks.
 */
import { call, regionCodeOfScope, scopeOfRegionCode } from '@zoufang/shared'
import { defineStore } from 'pinia'
import { reactive } from 'vue'

export interface RegionRow {
  code: string
  name: string
  level: string
  parent_code: string
  kind: string
}

export interface CadreRow {
  cadre_id: string
  name: string
  phone: string
  unit: string
  position: string
  region_code: string
  roles: string[]
}

/** The 12-digit code of a region's parent (its nearest non-zero level above). */
export function parentOfRegion(code: string): string {
  const c = regionCodeOfScope(code)
  if (c.slice(9) !== '000') return `${c.slice(0, 9)}000`
  if (c.slice(6, 9) !== '000') return `${c.slice(0, 6)}000000`
  if (c.slice(4, 6) !== '00') return `${c.slice(0, 4)}00000000`
  if (c.slice(2, 4) !== '00') return `${c.slice(0, 2)}0000000000`
  return ''
}

export const useNamesStore = defineStore('org-names', () => {
  const regions = reactive(new Map<string, RegionRow>())
  const children = reactive(new Map<string, string[]>())
  const cadres = reactive(new Map<string, CadreRow>())
  const loadingChildren = new Map<string, Promise<RegionRow[]>>()
  const loadingCadres = new Map<string, Promise<CadreRow[]>>()

  /** The regions under `parent` (a 12-digit code, or '' for the top). */
  function childrenOf(parent: string): Promise<RegionRow[]> {
    const key = parent ? regionCodeOfScope(parent) : ''
    const known = children.get(key)
    if (known) return Promise.resolve(known.map((c) => regions.get(c)!).filter(Boolean))
    let p = loadingChildren.get(key)
    if (!p) {
      p = call('registry', 'ListRegions', { parent_code: key })
        .then((r) => {
          const rows = (r.regions ?? []) as RegionRow[]
          for (const row of rows) regions.set(row.code, row)
          children.set(key, rows.map((x) => x.code))
          return rows
        })
        .finally(() => loadingChildren.delete(key))
      loadingChildren.set(key, p)
    }
    return p
  }

  /** Makes sure the names of `codes` are known (loads their parents' lists). */
  async function ensureRegions(codes: Iterable<string>): Promise<void> {
    const parents = new Set<string>()
    for (const code of codes) {
      if (!code) continue
      const c = regionCodeOfScope(code)
      if (!regions.has(c)) parents.add(parentOfRegion(c))
    }
    await Promise.all([...parents].map((p) => childrenOf(p).catch(() => [])))
  }

  /** A region's name (its code while unknown). */
  function regionName(code: string | null | undefined): string {
    if (!code) return '—'
    const c = regionCodeOfScope(code)
    return regions.get(c)?.name ?? code
  }

  /** 蒋家桥镇 · 高洲村: a village with its township. */
  function regionPath(code: string | null | undefined): string {
    if (!code) return '—'
    const c = regionCodeOfScope(code)
    const me = regions.get(c)
    if (!me) return code
    const parent = regions.get(me.parent_code)
    return parent && me.level === 'REGION_LEVEL_VILLAGE' ? `${parent.name} · ${me.name}` : me.name
  }

  /** The cadres working in `region` (a prefix or 12-digit code) and below. */
  function cadresOf(region: string): Promise<CadreRow[]> {
    let p = loadingCadres.get(region)
    if (!p) {
      p = call('registry', 'ListCadres', { region_code: region }).then((r) => {
        const rows = (r.cadres ?? []) as CadreRow[]
        for (const row of rows) cadres.set(row.cadre_id, row)
        return rows
      })
      loadingCadres.set(region, p)
      p.catch(() => loadingCadres.delete(region))
    }
    return p
  }

  function cadreName(id: string | null | undefined): string {
    if (!id) return '—'
    return cadres.get(id)?.name ?? '（未知干部）'
  }

  /** Forgets the cadre lists (after onboarding a cadre). */
  function forgetCadres(): void {
    loadingCadres.clear()
  }

  return { regions, cadres, childrenOf, ensureRegions, regionName, regionPath, cadresOf, cadreName, forgetCadres }
})

/** The region a page starts in: the person's scope as a 12-digit code ('' for everywhere). */
export function regionOfScope(scope: string | null | undefined): string {
  return scope ? regionCodeOfScope(scope) : ''
}

/** A 12-digit code as the prefix the list RPCs filter by ('' for everywhere). */
export function prefixOfRegion(code: string): string {
  return code ? scopeOfRegionCode(code) : ''
}
