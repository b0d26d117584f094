/**
 * The organisation area's calls that are not (yet) in the generated
 * OpenAPI types: work teams (registry CreateWorkTeam / ListWorkTeams /
 * SetWorkTeamMembers), one-step cadre onboarding (POST /v1/people/cadres),
 * 包保 from a sheet (POST /v1/import/assignments) and the accounts routes.
 * They go through the same client (cookie, CSRF, errors as ApiError) with
 * types written here from the contracts; once `npm run gen` has them, the
 * RPCs can move to `call()`.
 */
import { api, send } from '@zoufang/shared'

type Untyped = {
  GET(p: string, o?: { params?: { query?: Record<string, string> } }): Promise<never>
  POST(
    p: string,
    o: { body?: unknown; params?: { query?: Record<string, string> }; bodySerializer?: (b: unknown) => unknown; headers?: Record<string, string> },
  ): Promise<never>
}
const raw = () => api() as unknown as Untyped

/** POST /v1/<service>/<Method> with a JSON body, untyped. */
export function rpc<T>(service: string, method: string, body: unknown): Promise<T> {
  const path = `/v1/${service}/${method}`
  return send<T>(path, () => raw().POST(path, { body }))
}

// Work teams (工作队) -------------------------------------------------------

export interface WorkTeam {
  team_id: string
  township_code: string
  name: string
  leader_cadre_id: string
  zone_id: string
  member_cadre_ids: string[]
}

export function listWorkTeams(region_code: string): Promise<WorkTeam[]> {
  return rpc<{ teams?: WorkTeam[] }>('registry', 'ListWorkTeams', { region_code }).then((r) => r.teams ?? [])
}

export function createWorkTeam(team: WorkTeam): Promise<WorkTeam> {
  return rpc<{ team: WorkTeam }>('registry', 'CreateWorkTeam', team).then((r) => r.team)
}

export function setWorkTeamMembers(team_id: string, leader_cadre_id: string, member_cadre_ids: string[]): Promise<WorkTeam> {
  return rpc<{ team: WorkTeam }>('registry', 'SetWorkTeamMembers', { team_id, leader_cadre_id, member_cadre_ids }).then(
    (r) => r.team,
  )
}

// People: one-step cadre onboarding --------------------------------------

export interface OnboardRequest {
  cadre_id: string
  name: string
  phone?: string
  unit: string
  position: string
  region_code: string
  roles?: string[]
  username?: string
}

export interface Onboarded {
  cadre: { cadre_id: string; name: string; phone: string; unit: string; position: string; region_code: string; roles: string[] }
  account: { account_id: string; username: string; user_id: string }
  initial_password: string | null
  must_change_password: boolean
  account_created: boolean
}

export function onboardCadre(body: OnboardRequest): Promise<Onboarded> {
  return send<Onboarded>('/v1/people/cadres', () => raw().POST('/v1/people/cadres', { body }))
}

// Accounts ----------------------------------------------------------------

export interface Account {
  account_id: string
  username: string
  user_id: string
  display_name: string
  roles: string[]
  scope: string
  active: boolean
  locked: boolean
  created_at: string
}

export interface NewAccount {
  username: string
  password: string
  display_name: string
  roles: string[]
  scope: string
  user_id?: string
}

export function listAccounts(scope: string): Promise<Account[]> {
  return send<Account[]>('/v1/accounts', () => raw().GET('/v1/accounts', { params: { query: { scope } } }))
}

export function createAccount(body: NewAccount): Promise<Account> {
  return send<Account>('/v1/accounts', () => raw().POST('/v1/accounts', { body }))
}

export function setAccountActive(account_id: string, active: boolean): Promise<Account> {
  const path = `/v1/accounts/${encodeURIComponent(account_id)}/${active ? 'enable' : 'disable'}`
  return send<Account>(path, () => raw().POST(path, {}))
}

// Imports -----------------------------------------------------------------

export interface ImportRowError {
  row: number
  column: string
  reason: string
}

export interface ImportJob {
  job_id: string
  kind: string
  state: 'running' | 'done' | 'failed'
  phase: 'reading' | 'checking' | 'writing' | 'finished'
  rows_total: number
  rows_processed: number
  rows_imported: number
  rows_failed: number
  message: string
  errors_total?: number
  errors?: ImportRowError[]
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** The file's content type as the gateway reads it (XLSX or CSV; it sniffs too). */
export function sheetContentType(file: File): string {
  if (/\.csv$/i.test(file.name)) return 'text/csv'
  if (/\.xlsx$/i.test(file.name)) return XLSX
  return file.type || 'application/octet-stream'
}

/** Starts the 包保 import of one campaign: the file is the request body. */
export function importAssignments(campaign_id: string, file: File, mode: 'all_or_nothing' | 'good_rows_only'): Promise<ImportJob> {
  const path = '/v1/import/assignments'
  return send<ImportJob>(path, () =>
    raw().POST(path, {
      params: { query: { campaign_id, mode } },
      body: file,
      bodySerializer: (b) => b,
      headers: { 'Content-Type': sheetContentType(file) },
    }),
  )
}

export function getImportJob(job_id: string): Promise<ImportJob> {
  const path = `/v1/import/${encodeURIComponent(job_id)}`
  return send<ImportJob>(path, () => raw().GET(path, { params: { query: { errors_limit: '50' } } }))
}

export function newId(): string {
  return crypto.randomUUID()
}
