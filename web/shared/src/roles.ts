/** The roles a sign-in account carries, and their Chinese names. */
export const ROLES = [
  'cadre',
  'township_admin',
  'supervisor',
  'department',
  'county_admin',
  'petition_bureau',
] as const

export type Role = (typeof ROLES)[number]

export const ROLE_LABELS: Record<Role, string> = {
  cadre: '走访干部',
  township_admin: '乡镇管理员',
  supervisor: '督查员',
  department: '县直部门',
  county_admin: '县级管理员',
  petition_bureau: '信访局',
}

/** A role's Chinese name (an unknown role shows as is). */
export function roleLabel(role: string): string {
  return (ROLE_LABELS as Record<string, string>)[role] ?? role
}

/** Admin roles: every console page that changes organisation data needs one. */
export const ADMIN_ROLES: Role[] = ['township_admin', 'county_admin']
