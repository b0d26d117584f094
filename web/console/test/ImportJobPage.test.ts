import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import ImportJobPage from '@/pages/data/ImportJobPage.vue'

const JOB = '01a25269-f7e5-7798-9e9d-6bfac37045b0'

function job(over: Record<string, unknown>) {
  return {
    job_id: JOB, kind: 'households', mode: 'good_rows_only', state: 'running', phase: 'checking', format: 'xlsx',
    sheet: '农户', header_row: 1, rows_total: 6, rows_processed: 3, rows_imported: 0, rows_failed: 0, message: '',
    created_at: '2026-12-07T21:30:06Z', updated_at: '2026-12-07T21:30:06Z', finished_at: null, errors_total: 0, errors: [],
    ...over,
  }
}

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('ImportJobPage', () => {
  it('polls while the job runs, then shows 100% and the bad rows', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const answers = [
      job({}),
      job({
        state: 'done', phase: 'finished', rows_processed: 6, rows_imported: 5, rows_failed: 1, message: '共6行：导入5行，1行有误未导入',
        errors_total: 1, errors: [{ row: 7, column: '身份证号', reason: '校验位错误：最后一位应为1，实际为0' }],
      }),
    ]
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      const body = answers[Math.min(urls.length - 1, answers.length - 1)]
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
    })
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/data/imports/:jobId', name: 'import-job', component: ImportJobPage },
        { path: '/data/imports', name: 'imports', component: { template: '<div />' } },
      ],
    })
    await router.push(`/data/imports/${JOB}`)
    const wrapper = mount(ImportJobPage, { global: { plugins: [router] } })
    await vi.waitFor(() => expect(wrapper.find('[data-test=import-progress]').attributes('data-percent')).toBe('50'))
    expect(urls[0]).toBe(`/v1/import/${JOB}?errors_offset=0&errors_limit=20`)
    await vi.advanceTimersByTimeAsync(1100)
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.find('[data-test=import-progress]').attributes('data-percent')).toBe('100'))
    expect(wrapper.find('[data-test=import-state]').text()).toBe('已完成')
    expect(wrapper.find('[data-test=rows-imported]').text()).toBe('5')
    const row = wrapper.find('[data-test=import-errors] tbody tr').text()
    expect(row).toContain('7')
    expect(row).toContain('身份证号')
    expect(row).toContain('校验位错误')
    // Done: no more polling.
    const n = urls.length
    await vi.advanceTimersByTimeAsync(3000)
    expect(urls.length).toBe(n)
  })
})
