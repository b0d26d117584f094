/**
 * The household edit form's rules (UpdateHousehold): only the fields that
 * changed are sent, with the version the edit started from; Chinese reasons
 * keyed by the request's field names.
 */
import type { RpcRequest } from '@zoufang/shared'

type UpdateHouseholdRequest = RpcRequest<'registry', 'UpdateHousehold'>

export interface HouseholdEditForm {
  address: string
  group_name: string
  /** A new number; '' leaves it as it is unless `clear_phone`. */
  phone: string
  clear_phone: boolean
  member_count: number | null
  note: string
}

export interface HouseholdNow {
  household_id?: string
  address?: string
  group_name?: string
  member_count?: number
  version?: string | number
}

export function editFormOf(h: HouseholdNow): HouseholdEditForm {
  return {
    address: h.address ?? '',
    group_name: h.group_name ?? '',
    phone: '',
    clear_phone: false,
    member_count: h.member_count ?? null,
    note: '',
  }
}

const MOBILE = /^1[3-9]\d{9}$/

export function validateHouseholdEdit(form: HouseholdEditForm, now: HouseholdNow): Record<string, string> {
  const e: Record<string, string> = {}
  if ([...form.address.trim()].length > 200) e.address = '住址不能超过200字'
  if ([...form.group_name.trim()].length > 50) e.group_name = '村民小组不能超过50字'
  if (form.phone.trim() && !MOBILE.test(form.phone.trim())) e.phone = '请输入11位手机号码'
  if (form.member_count === null || !Number.isInteger(form.member_count) || form.member_count < 1 || form.member_count > 50) {
    e.member_count = '家庭人口应为 1 至 50 之间的整数'
  }
  if (!form.note.trim()) e.note = '请填写修改原因（如：搬迁、换号、新增人口）'
  else if ([...form.note.trim()].length > 200) e.note = '修改原因不能超过200字'
  if (!Object.keys(e).length && !Object.keys(changesOf(form, now)).length) e.form = '没有修改任何内容'
  return e
}

function changesOf(form: HouseholdEditForm, now: HouseholdNow): Partial<UpdateHouseholdRequest> {
  const out: Partial<UpdateHouseholdRequest> = {}
  if (form.address.trim() !== (now.address ?? '')) out.address = form.address.trim()
  if (form.group_name.trim() !== (now.group_name ?? '')) out.group_name = form.group_name.trim()
  if (form.clear_phone) out.phone = ''
  else if (form.phone.trim()) out.phone = form.phone.trim()
  if (form.member_count !== null && form.member_count !== (now.member_count ?? null)) out.member_count = form.member_count
  return out
}

export function toUpdateRequest(form: HouseholdEditForm, now: HouseholdNow): UpdateHouseholdRequest {
  return {
    household_id: now.household_id ?? '',
    expected_version: String(now.version ?? 0),
    ...changesOf(form, now),
    note: form.note.trim(),
  }
}

/** The Chinese explanation of a stale edit. */
export const CONFLICT_TEXT = '保存失败：在您编辑期间，此户档案已被其他人修改。页面已载入最新内容和修改记录，请核对后重新修改。'
