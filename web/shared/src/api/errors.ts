/**
 * The gateway's error shape, `{code, message, field_errors: [{field, reason}]}`,
 * as a typed error a page can show: `message` is always Chinese (the
 * gateway's own when it is Chinese, else a Chinese text for its code), and
 * `fieldErrors` maps each named field to its reason so a form shows it
 * beside the input.
 */

/** One bad field, as the gateway names it. */
export interface FieldError {
  field: string
  reason: string
}

/** The JSON body of every gateway error. */
export interface ErrorBody {
  code: string
  message: string
  field_errors?: FieldError[]
}

/** Chinese texts for the gateway's codes, used when its message is not Chinese. */
export const CODE_MESSAGES: Record<string, string> = {
  invalid_argument: '提交的内容有误，请检查后重试',
  unauthenticated: '登录已失效，请重新登录',
  permission_denied: '无权进行此操作',
  not_found: '未找到相应记录，或不在您的管辖范围内',
  conflict: '数据已被他人修改，请刷新后重试',
  failed_precondition: '当前状态不允许此操作',
  locked: '账号已被锁定，请稍后再试',
  too_many_requests: '操作过于频繁，请稍后再试',
  payload_too_large: '提交的内容过大',
  unsupported_media_type: '请求格式不受支持',
  unavailable: '服务暂时不可用，请稍后重试',
  unimplemented: '该功能尚未开通',
  internal: '系统内部错误，已记录，请稍后重试',
  csrf: '页面已过期，请刷新后重试',
  network: '网络连接失败，请检查网络后重试',
  bad_response: '服务器返回了无法识别的内容',
}

const HAN = /[\u4e00-\u9fff]/

/** Whether a text has Chinese characters (the gateway's user-facing messages do). */
export function isChinese(text: string | undefined | null): boolean {
  return !!text && HAN.test(text)
}

function statusCode(status: number): string {
  if (status === 400) return 'invalid_argument'
  if (status === 401) return 'unauthenticated'
  if (status === 403) return 'permission_denied'
  if (status === 404) return 'not_found'
  if (status === 409) return 'conflict'
  if (status === 413) return 'payload_too_large'
  if (status === 415) return 'unsupported_media_type'
  if (status === 422) return 'failed_precondition'
  if (status === 423) return 'locked'
  if (status === 429) return 'too_many_requests'
  if (status === 501) return 'unimplemented'
  if (status === 502 || status === 503 || status === 504) return 'unavailable'
  return 'internal'
}

/** An error answered by the gateway (or the network failing on the way). */
export class ApiError extends Error {
  /** HTTP status; 0 when the request never got an answer. */
  readonly status: number
  /** The gateway's machine-readable code (invalid_argument, not_found, …). */
  readonly code: string
  /** The message as the gateway sent it (may be English for internal errors). */
  readonly serverMessage: string
  readonly fieldErrors: FieldError[]

  constructor(status: number, body: Partial<ErrorBody> | null | undefined) {
    const code = body?.code || statusCode(status)
    const serverMessage = body?.message ?? ''
    const fieldErrors = Array.isArray(body?.field_errors) ? body!.field_errors! : []
    const message = isChinese(serverMessage)
      ? serverMessage
      : (fieldErrors.find((f) => isChinese(f.reason))?.reason ??
        CODE_MESSAGES[code] ??
        CODE_MESSAGES.internal!)
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.serverMessage = serverMessage
    this.fieldErrors = fieldErrors
  }

  /** The request got no answer (offline, DNS, connection refused). */
  static network(cause?: unknown): ApiError {
    const e = new ApiError(0, { code: 'network', message: '' })
    if (cause !== undefined) (e as { cause?: unknown }).cause = cause
    return e
  }

  /**
   * The reason for one form field, or undefined. The gateway names fields as
   * the contract does (snake_case), sometimes with a path
   * (`quotas[0].target`, `household.phone`): a form field matches its exact
   * name or the last segment of the path.
   */
  fieldReason(field: string): string | undefined {
    const hit =
      this.fieldErrors.find((f) => f.field === field) ??
      this.fieldErrors.find((f) => lastSegment(f.field) === field)
    return hit?.reason
  }

  /** Every field's reason, keyed by the field as named (and by its last segment). */
  fieldMap(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const f of this.fieldErrors) {
      out[f.field] ??= f.reason
      out[lastSegment(f.field)] ??= f.reason
    }
    return out
  }

  get isUnauthenticated(): boolean {
    return this.status === 401
  }
  get isForbidden(): boolean {
    return this.status === 403
  }
  get isConflict(): boolean {
    return this.status === 409
  }
}

function lastSegment(field: string): string {
  const parts = field.split('.')
  return (parts[parts.length - 1] ?? field).replace(/\[\d+\]$/, '')
}

/** Reads an error body from a response that is not ok, whatever it holds. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: Partial<ErrorBody> | null = null
  try {
    const text = await response.text()
    if (text) body = JSON.parse(text) as Partial<ErrorBody>
  } catch {
    body = null
  }
  return new ApiError(response.status, body)
}

/** Any thrown value as a Chinese message for a toast. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message
  if (err instanceof Error && isChinese(err.message)) return err.message
  return CODE_MESSAGES.internal!
}
