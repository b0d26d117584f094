/** Labels and small helpers of the organisation area. */
import { CADRE_UNIT } from '@zoufang/shared'

/** The onboarding endpoint's unit names → the registry enum's labels. */
export const UNIT_OPTIONS = [
  { value: 'township_office', enum: 'CADRE_UNIT_TOWNSHIP_OFFICE', label: CADRE_UNIT.CADRE_UNIT_TOWNSHIP_OFFICE! },
  { value: 'village_committee', enum: 'CADRE_UNIT_VILLAGE_COMMITTEE', label: CADRE_UNIT.CADRE_UNIT_VILLAGE_COMMITTEE! },
  { value: 'county_department', enum: 'CADRE_UNIT_COUNTY_DEPARTMENT', label: CADRE_UNIT.CADRE_UNIT_COUNTY_DEPARTMENT! },
]

/** Positions (职务) commonly used as quota keys; the cadres' own are added. */
export const COMMON_POSITIONS = ['党委书记', '乡镇长', '班子成员', '机关干部', '工作队员', '村干部']

/** Themes (走访主题) offered when creating a campaign; any other may be typed. */
export const COMMON_THEMES = ['政策宣传', '民生工程', '信访维稳', '矛盾纠纷排查', '中心工作', '产业发展', '防返贫监测']

/** 138****0011 stays as is; an unmasked 11-digit number is masked 3+4. */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '—'
  return /^\d{11}$/.test(phone) ? `${phone.slice(0, 3)}****${phone.slice(7)}` : phone
}

const NUMERALS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10 }

/** 第二片区 before 第十片区: Chinese numerals (up to 九十九) compared as numbers. */
export function naturalKey(name: string): string {
  return name.replace(/[一二三四五六七八九十]+/g, (m) => {
    let n = 0
    if (m.includes('十')) {
      const [tens, ones] = m.split('十') as [string, string]
      n = (tens ? (NUMERALS[tens] ?? 1) : 1) * 10 + (ones ? (NUMERALS[ones] ?? 0) : 0)
    } else n = [...m].reduce((acc, ch) => acc * 10 + (NUMERALS[ch] ?? 0), 0)
    return String(n).padStart(4, '0')
  })
}

export function byName<T>(get: (x: T) => string) {
  return (a: T, b: T) => naturalKey(get(a)).localeCompare(naturalKey(get(b)), 'zh-CN')
}

/** Roles a person may hand out: a township admin not the county-wide ones (the gateway enforces this too). */
export function grantableRoles(isCountyWide: boolean): string[] {
  const all = ['cadre', 'township_admin', 'supervisor', 'department', 'county_admin', 'petition_bureau']
  return isCountyWide ? all : all.filter((r) => !['county_admin', 'department', 'petition_bureau'].includes(r))
}

/** A route the running gateway does not serve yet (404 with no field named) reads as such. */
export function notYetMessage(err: unknown, what: string): string | null {
  const e = err as { status?: number; fieldErrors?: unknown[] }
  return e && e.status === 404 && !(e.fieldErrors ?? []).length ? `${what}需要升级后的服务端，当前系统尚未开通` : null
}
