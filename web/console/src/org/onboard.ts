/** The one-step onboarding form and its request body. */
import type { OnboardRequest } from './api'

export interface OnboardForm {
  name: string
  phone: string
  unit: string
  position: string
  region_code: string
  roles: string[]
  /** Empty: the phone number becomes the username. */
  username: string
}

export function emptyOnboardForm(region_code: string): OnboardForm {
  return { name: '', phone: '', unit: 'township_office', position: '', region_code, roles: ['cadre'], username: '' }
}

/** What the browser can check before sending; the gateway checks all again. */
export function checkOnboard(f: OnboardForm): Record<string, string> {
  const e: Record<string, string> = {}
  if (!f.name.trim()) e.name = '请填写姓名'
  const phone = f.phone.trim()
  if (phone && !/^1\d{10}$/.test(phone)) e.phone = '手机号应为 11 位数字'
  if (!phone && !f.username.trim()) e.username = '没有手机号时请填写登录账号'
  if (!f.position.trim()) e.position = '请填写职务'
  if (!f.region_code) e.region_code = '请选择工作区域'
  if (!f.roles.length) e.roles = '请至少选择一个角色'
  return e
}

export function onboardBody(f: OnboardForm, cadre_id: string): OnboardRequest {
  const body: OnboardRequest = {
    cadre_id,
    name: f.name.trim(),
    unit: f.unit,
    position: f.position.trim(),
    region_code: f.region_code,
    roles: f.roles,
  }
  if (f.phone.trim()) body.phone = f.phone.trim()
  if (f.username.trim()) body.username = f.username.trim()
  return body
}
