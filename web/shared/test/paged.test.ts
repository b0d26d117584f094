import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { ApiError } from '../src/api/errors'
import { usePagedList, type PageRequest } from '../src/composables/usePagedList'

/** 45 numbered rows behind a token pager. */
function server(fail = false) {
  const seen: PageRequest[] = []
  const fetch = async (req: PageRequest) => {
    seen.push(req)
    if (fail) throw new ApiError(503, { code: 'unavailable', message: '' })
    const start = req.page_token ? Number(req.page_token) : 0
    const items = Array.from({ length: Math.min(req.page_size, 45 - start) }, (_, i) => start + i)
    const next = start + req.page_size < 45 ? String(start + req.page_size) : ''
    return { items, next_page_token: next }
  }
  return { seen, fetch }
}

describe('usePagedList', () => {
  it('walks token pages forward and back', async () => {
    const s = server()
    const list = usePagedList({ fetch: s.fetch, pageSize: 20, immediate: false })
    await list.reload()
    expect(list.items.value[0]).toBe(0)
    expect(list.hasNext.value).toBe(true)
    expect(list.pageCount.value).toBe(2)
    await list.next()
    await list.next()
    expect(list.page.value).toBe(3)
    expect(list.items.value).toEqual([40, 41, 42, 43, 44])
    expect(list.hasNext.value).toBe(false)
    expect(list.pageCount.value).toBe(3)
    await list.goTo(2)
    expect(list.items.value[0]).toBe(20)
    expect(s.seen.map((r) => r.page_token)).toEqual(['', '20', '40', '20'])
  })

  it('starts over when the page size changes', async () => {
    const s = server()
    const list = usePagedList({ fetch: s.fetch, immediate: false })
    await list.reload()
    await list.next()
    await list.setPageSize(50)
    expect(list.page.value).toBe(1)
    expect(list.items.value).toHaveLength(45)
    expect(list.hasNext.value).toBe(false)
  })

  it('keeps the error in Chinese and recovers on retry', async () => {
    const s = server(true)
    const list = usePagedList({ fetch: s.fetch })
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
    expect(list.error.value).toBe('服务暂时不可用，请稍后重试')
    expect(list.loading.value).toBe(false)
  })

  it('uses a total when the RPC gives one', async () => {
    const list = usePagedList({
      fetch: async () => ({ items: [1], next_page_token: 'x', total: '95' }),
      immediate: false,
    })
    await list.reload()
    expect(list.exactTotal.value).toBe(true)
    expect(list.total.value).toBe(95)
    expect(list.pageCount.value).toBe(5)
  })
})
