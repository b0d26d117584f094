/**
 * Imports (导入): `POST /v1/import/{households|cadres|regions}` takes the
 * file itself as the body (XLSX or CSV, at most 20 MB) and answers 202
 * with the job; `GET /v1/import/{job_id}` reports its progress and a page
 * of its per-row errors. The column headers are the gateway's
 * (services/gateway/src/desk/import/header.rs); the templates below use
 * their preferred names so a filled template maps without guessing.
 */
import { errorFromResponse, getCsrfToken, CSRF_HEADER, type paths } from '@zoufang/shared'
import { xlsx, XLSX_TYPE, type Sheet } from '@zoufang/shared/xlsx/write.mjs'

export type ImportKind = 'households' | 'cadres' | 'regions'
export type ImportMode = 'all_or_nothing' | 'good_rows_only'
export type ImportJob = paths['/v1/import/{job_id}']['get']['responses'][200]['content']['application/json']

/** The gateway's limit on one file. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024

export interface Column {
  header: string
  required: boolean
  /** What to write, for the 填表说明 sheet. */
  note: string
  width: number
  /** Stored as text in the template (ID numbers, phones, codes). */
  text?: boolean
}

export interface ImportKindDef {
  kind: ImportKind
  label: string
  description: string
  columns: Column[]
  example: (string | number)[]
}

export const IMPORT_KINDS: ImportKindDef[] = [
  {
    kind: 'households',
    label: '农户',
    description: '农户花名册：一户一行，按身份证号识别，已登记的户会被指出。',
    columns: [
      { header: '户主姓名', required: true, note: '必填，50字以内', width: 12 },
      { header: '身份证号', required: true, note: '必填，18位，末位可为X；请保持文本格式，否则Excel会丢失后几位', width: 22, text: true },
      { header: '联系电话', required: false, note: '11位手机号', width: 14, text: true },
      { header: '所属乡镇', required: false, note: '乡镇名称；村名有重名时用来区分', width: 12 },
      { header: '所属村', required: true, note: '必填，村（社区）名称或12位区划代码，须在您的管辖范围内', width: 14 },
      { header: '村民小组', required: false, note: '如：3组', width: 10 },
      { header: '家庭住址', required: false, note: '200字以内', width: 28 },
      { header: '家庭人口', required: true, note: '必填，正整数', width: 10 },
      { header: '标签', required: false, note: '多个标签用顿号分隔，如：脱贫户、低保户', width: 16 },
    ],
    example: ['张三', '430426198001011234', '13800000000', '蒋家桥镇', '蒋家桥社区', '3组', '蒋家桥社区3组12号', 4, '脱贫户'],
  },
  {
    kind: 'cadres',
    label: '干部',
    description: '干部名册：姓名、单位类型、职务和工作区域。',
    columns: [
      { header: '姓名', required: true, note: '必填', width: 10 },
      { header: '联系电话', required: false, note: '11位手机号', width: 14, text: true },
      { header: '单位类型', required: true, note: '必填，如：乡镇、县直部门、村（社区）', width: 14 },
      { header: '职务', required: true, note: '必填，如：驻村工作队员、村支书', width: 16 },
      { header: '工作区域', required: true, note: '必填，乡镇或村名称，或区划代码', width: 16 },
      { header: '角色', required: false, note: '系统角色，可不填', width: 12 },
    ],
    example: ['李四', '13900000000', '乡镇', '驻村工作队员', '蒋家桥社区', ''],
  },
  {
    kind: 'regions',
    label: '行政区划',
    description: '行政区划表：统计用区划代码（12位）、名称、级别和上级代码。',
    columns: [
      { header: '区划代码', required: true, note: '必填，12位统计用区划代码', width: 16, text: true },
      { header: '名称', required: true, note: '必填', width: 16 },
      { header: '级别', required: false, note: '县、乡镇或村；可由代码推出', width: 8 },
      { header: '上级代码', required: false, note: '12位；可由代码推出', width: 16, text: true },
    ],
    example: ['430426102001', '蒋家桥社区', '村', '430426102000'],
  },
]

export function kindDef(kind: string): ImportKindDef | undefined {
  return IMPORT_KINDS.find((k) => k.kind === kind)
}

/** The template workbook of a kind: the header row, one example row, and a 填表说明 sheet. */
export function templateSheets(def: ImportKindDef): Sheet[] {
  const textColumns = def.columns.flatMap((c, i) => (c.text ? [i] : []))
  return [
    {
      name: `${def.label}导入`,
      header: def.columns.map((c) => c.header),
      rows: [def.example],
      widths: def.columns.map((c) => c.width),
      textColumns,
    },
    {
      name: '填表说明',
      header: ['列名', '是否必填', '填写要求'],
      rows: [
        ...def.columns.map((c) => [c.header, c.required ? '必填' : '选填', c.note]),
        [],
        ['说明', '', '第一张表的第2行是示例，请删除后填写；表头可放在标题行下面。'],
      ],
      widths: [14, 10, 60],
    },
  ]
}

export function templateBlob(def: ImportKindDef): Blob {
  return new Blob([xlsx(templateSheets(def)) as BlobPart], { type: XLSX_TYPE })
}

/** The media type the gateway reads a file as. */
export function contentTypeOf(file: File): string {
  const name = file.name.toLowerCase()
  if (name.endsWith('.csv')) return 'text/csv'
  if (name.endsWith('.xlsx')) return XLSX_TYPE
  return file.type || 'application/octet-stream'
}

/** Starts an import; the job as first answered (202). Throws ApiError (Chinese) when refused. */
export async function startImport(kind: ImportKind, file: File, mode: ImportMode): Promise<ImportJob> {
  const headers: Record<string, string> = { 'content-type': contentTypeOf(file) }
  const csrf = getCsrfToken()
  if (csrf) headers[CSRF_HEADER] = csrf
  const response = await fetch(`/v1/import/${kind}?mode=${mode}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: file,
  })
  if (!response.ok) throw await errorFromResponse(response)
  return (await response.json()) as ImportJob
}

/** A job with a page of its errors. */
export async function readJob(jobId: string, errorsOffset = 0, errorsLimit = 20, signal?: AbortSignal): Promise<ImportJob> {
  const response = await fetch(
    `/v1/import/${encodeURIComponent(jobId)}?errors_offset=${errorsOffset}&errors_limit=${errorsLimit}`,
    { credentials: 'same-origin', signal },
  )
  if (!response.ok) throw await errorFromResponse(response)
  return (await response.json()) as ImportJob
}

/** How far a job is, 0–100: rows processed of rows read; 100 once finished. */
export function progressOf(job: Pick<ImportJob, 'state' | 'rows_total' | 'rows_processed'>): number {
  if (job.state === 'done' || job.state === 'failed') return 100
  const total = job.rows_total ?? 0
  if (!total) return 0
  return Math.min(99, Math.floor(((job.rows_processed ?? 0) * 100) / total))
}

export const STATE_LABEL: Record<string, string> = { running: '进行中', done: '已完成', failed: '失败' }
export const PHASE_LABEL: Record<string, string> = { reading: '读取文件', checking: '逐行检查', writing: '写入', finished: '结束' }
export const MODE_LABEL: Record<string, string> = {
  all_or_nothing: '有错行则全部不导入',
  good_rows_only: '只导入正确的行',
}

/** The recent jobs of this browser, newest first (the gateway has no job list). */
export interface RecentJob {
  job_id: string
  kind: ImportKind
  file: string
  at: string
}
const RECENT_KEY = 'zf.imports.recent'

export function recentJobs(): RecentJob[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as RecentJob[]
    return Array.isArray(v) ? v : []
  } catch {
    return []
  }
}

export function rememberJob(j: RecentJob): void {
  const list = [j, ...recentJobs().filter((x) => x.job_id !== j.job_id)].slice(0, 10)
  localStorage.setItem(RECENT_KEY, JSON.stringify(list))
}
