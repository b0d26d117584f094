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
