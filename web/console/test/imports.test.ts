import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { setCsrfToken } from '@zoufang/shared'
import { crc32, xlsx, zip } from '@zoufang/shared/xlsx/write.mjs'
import ImportsPage from '@/pages/data/ImportsPage.vue'
import { IMPORT_KINDS, contentTypeOf, progressOf, startImport, templateSheets } from '@/lib/imports'

interface Call {
  url: string
  init: RequestInit
}

function stubFetch(answer: (c: Call) => { status: number; body: unknown }) {
  const calls: Call[] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const c = { url, init }
    calls.push(c)
    const { status, body } = answer(c)
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
  })
  return calls
}

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
})
afterEach(() => {
  vi.unstubAllGlobals()
  setCsrfToken(null)
})

describe('the XLSX writer', () => {
  it('checksums as ZIP does and stores each part', () => {
    expect(crc32(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926')
    const z = zip([{ name: 'a.txt', data: new TextEncoder().encode('hi') }])
    expect(String.fromCharCode(z[0]!, z[1]!)).toBe('PK')
    const book = new TextDecoder().decode(xlsx([{ name: '农户', header: ['身份证号'], rows: [['430426198001011234']], textColumns: [0] }]))
    expect(book).toContain('xl/worksheets/sheet1.xml')
    expect(book).toContain('<t xml:space="preserve">身份证号</t>')
    expect(book).toContain('430426198001011234')
  })
})

describe('import templates', () => {
  it('use the gateway’s preferred headers, required ones first among the notes', () => {
    const households = IMPORT_KINDS.find((k) => k.kind === 'households')!
    const [sheet, notes] = templateSheets(households)
    expect(sheet!.header).toEqual(['户主姓名', '身份证号', '联系电话', '所属乡镇', '所属村', '村民小组', '家庭住址', '家庭人口', '标签'])
    expect(sheet!.textColumns).toEqual([1, 2])
    expect(notes!.rows![0]).toEqual(['户主姓名', '必填', '必填，50字以内'])
    for (const k of IMPORT_KINDS) expect(k.example).toHaveLength(k.columns.length)
  })
})

describe('starting an import', () => {
  it('sends the file as the body with its type, the mode and the CSRF token', async () => {
    setCsrfToken('tok')
    const calls = stubFetch(() => ({ status: 202, body: { job_id: 'j-1', state: 'running' } }))
    const file = new File(['户主姓名,身份证号\n'], '花名册.csv', { type: 'text/csv' })
    const job = await startImport('households', file, 'good_rows_only')
    expect(job.job_id).toBe('j-1')
    expect(calls[0]!.url).toBe('/v1/import/households?mode=good_rows_only')
    const headers = calls[0]!.init.headers as Record<string, string>
    expect(headers['X-CSRF-Token']).toBe('tok')
    expect(headers['content-type']).toBe('text/csv')
    expect(calls[0]!.init.body).toBe(file)
    expect(contentTypeOf(new File([''], 'a.XLSX'))).toContain('spreadsheetml')
  })

  it('reads progress as the bar shows it', () => {
    expect(progressOf({ state: 'running', rows_total: 0, rows_processed: 0 })).toBe(0)
    expect(progressOf({ state: 'running', rows_total: 200, rows_processed: 50 })).toBe(25)
    expect(progressOf({ state: 'running', rows_total: 10, rows_processed: 10 })).toBe(99)
    expect(progressOf({ state: 'done', rows_total: 10, rows_processed: 10 })).toBe(100)
    expect(progressOf({ state: 'failed', rows_total: 0, rows_processed: 0 })).toBe(100)
  })
})

function mountPage() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/data/imports', name: 'imports', component: ImportsPage },
      { path: '/data/imports/:jobId', name: 'import-job', component: { template: '<div />' } },
    ],
  })
  void router.push('/data/imports')
  return { router, wrapper: mount(ImportsPage, { global: { plugins: [router] } }) }
}

async function settle() {
  for (let i = 0; i < 5; i++) await flushPromises()
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

describe('ImportsPage', () => {
  it('asks for a file before sending anything', async () => {
    const calls = stubFetch(() => ({ status: 202, body: {} }))
    const { wrapper } = mountPage()
    await wrapper.find('form').trigger('submit')
    await settle()
    await vi.waitFor(() => expect(wrapper.text()).toContain('请先选择要导入的文件'))
    expect(calls).toHaveLength(0)
  })

  it('shows the gateway’s reason beside the file and goes to the job when accepted', async () => {
    let refuse = true
    const calls = stubFetch(() =>
      refuse
        ? { status: 400, body: { code: 'invalid_argument', message: 'file: 不是 Excel', field_errors: [{ field: 'file', reason: '文件不是有效的 Excel 或 CSV' }] } }
        : { status: 202, body: { job_id: '01a25269-f7e5-7798-9e9d-6bfac37045b0', state: 'running' } },
    )
    const { wrapper, router } = mountPage()
    const input = wrapper.find('input[type=file]')
    const file = new File(['x'], '花名册.xlsx')
    Object.defineProperty(input.element, 'files', { value: [file] })
    await input.trigger('change')
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(calls).toHaveLength(1)
    await vi.waitFor(() => expect(wrapper.find('.el-form-item__error').text()).toBe('文件不是有效的 Excel 或 CSV'))

    refuse = false
    await wrapper.find('form').trigger('submit')
    await settle()
    expect(router.currentRoute.value.params.jobId).toBe('01a25269-f7e5-7798-9e9d-6bfac37045b0')
    expect(JSON.parse(localStorage.getItem('zf.imports.recent')!)[0].file).toBe('花名册.xlsx')
  })

  it('refuses a file that is not a sheet before uploading it', async () => {
    const calls = stubFetch(() => ({ status: 202, body: {} }))
    const { wrapper } = mountPage()
    const input = wrapper.find('input[type=file]')
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], '照片.jpg')] })
    await input.trigger('change')
    await settle()
    await vi.waitFor(() => expect(wrapper.text()).toContain('请选择 Excel（.xlsx）或 CSV 文件'))
    expect(calls).toHaveLength(0)
  })
})
