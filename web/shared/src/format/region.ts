/**
 * Region codes: 12 digits (省2 市2 县2 乡镇3 村3); a scope is a prefix of
 * one (430426 the county, 430426107 a township, '' everywhere).
 */

/** Pads a scope prefix to the 12-digit code of the region it names. */
export function regionCodeOfScope(scope: string): string {
  return scope.padEnd(12, '0').slice(0, 12)
}

/** The prefix a 12-digit code stands for (its zero levels dropped): 430426104000 → 430426104. */
export function scopeOfRegionCode(code: string): string {
  const level = levelOfRegionCode(code)
  if (!level) return code
  return code.slice(0, PREFIX_LENGTH[level])
}

const PREFIX_LENGTH = { province: 2, city: 4, county: 6, township: 9, village: 12 } as const

export type RegionLevelName = 'province' | 'city' | 'county' | 'township' | 'village'

/** The level a 12-digit code names, from its digits. */
export function levelOfRegionCode(code: string): RegionLevelName | null {
  if (!/^\d{12}$/.test(code)) return null
  if (code.slice(9) !== '000') return 'village'
  if (code.slice(6, 9) !== '000') return 'township'
  if (code.slice(4, 6) !== '00') return 'county'
  if (code.slice(2, 4) !== '00') return 'city'
  return 'province'
}
