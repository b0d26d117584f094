/**
 * A server-side paged list. The list RPCs page with `page_size` and an
 * opaque `page_token` (the previous answer's `next_page_token`; '' when
 * there is no more); a few answer a `total` too. The composable keeps the
 * token of every page seen so far, so the pager can go back and forth and
 * jump to any page already reached; with a `total` it knows every page.
 *
 *   const list = usePagedList({
 *     fetch: ({ page_size, page_token }) =>
 *       call('registry', 'ListHouseholds', { ...filters.value, page_size, page_token })
 *         .then((r) => ({ items: r.households ?? [], next_page_token: r.next_page_token })),
 *   })
 *   watch(filters, () => list.reload(), { deep: true })
 */
import { computed, ref, shallowRef, type Ref } from 'vue'
import { errorMessage } from '../api/errors'

export interface PageRequest {
  page_size: number
  page_token: string
}

export interface PageAnswer<T> {
  items: T[]
  /** '' or absent: this was the last page. */
  next_page_token?: string | null
  /** When the RPC counts the whole list (int32 or int64-as-string). */
  total?: number | string | null
}

export interface PagedListOptions<T> {
  fetch: (req: PageRequest, signal: AbortSignal) => Promise<PageAnswer<T>>
  pageSize?: number
  /** Load the first page at once (default true). */
  immediate?: boolean
}

export const PAGE_SIZES = [20, 50, 100] as const

export function usePagedList<T>(opts: PagedListOptions<T>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  /** The last failure, in Chinese (null when the last load succeeded). */
  const error = ref<string | null>(null)
  const pageSize = ref(opts.pageSize ?? PAGE_SIZES[0])
  /** 1-based. */
  const page = ref(1)
  /** tokens[i] is the token of page i + 1; tokens[0] = ''. */
  const tokens = ref<string[]>([''])
  const serverTotal = ref<number | null>(null)
  let controller: AbortController | null = null

  const hasNext = computed(() => tokens.value.length > page.value)
  const hasPrev = computed(() => page.value > 1)
  /** Pages reachable now: all of them with a total, else the ones seen (+1 when more exist). */
  const pageCount = computed(() =>
    serverTotal.value !== null
      ? Math.max(1, Math.ceil(serverTotal.value / pageSize.value))
      : tokens.value.length,
  )
  /** A total for el-pagination: the real one, or one that shows the pages reachable. */
  const total = computed(() => serverTotal.value ?? pageCount.value * pageSize.value)
  const exactTotal = computed(() => serverTotal.value !== null)

  async function loadPage(n: number): Promise<void> {
    const token = tokens.value[n - 1]
    if (token === undefined) return
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    loading.value = true
    error.value = null
    try {
      const answer = await opts.fetch({ page_size: pageSize.value, page_token: token }, mine.signal)
      if (mine.signal.aborted) return
      items.value = answer.items ?? []
      page.value = n
      const next = answer.next_page_token ?? ''
      const known = tokens.value.slice(0, n)
      tokens.value = next ? [...known, next] : known
      serverTotal.value =
        answer.total !== undefined && answer.total !== null && answer.total !== ''
          ? Number(answer.total)
          : null
    } catch (err) {
      if (mine.signal.aborted) return
      error.value = errorMessage(err)
      throw err
    } finally {
      if (controller === mine) {
        loading.value = false
        controller = null
      }
    }
  }

  /** Back to page 1 (filters changed). Errors land in `error`. */
  function reload(): Promise<void> {
    tokens.value = ['']
    serverTotal.value = null
    return loadPage(1).catch(() => undefined)
  }

  /** The current page again (after an edit). */
  function refresh(): Promise<void> {
    return loadPage(page.value).catch(() => undefined)
  }

  function goTo(n: number): Promise<void> {
    if (n < 1 || n > tokens.value.length) return Promise.resolve()
    return loadPage(n).catch(() => undefined)
  }

  const next = () => goTo(page.value + 1)
  const prev = () => goTo(page.value - 1)

  function setPageSize(size: number): Promise<void> {
    pageSize.value = size
    return reload()
  }

  if (opts.immediate ?? true) void reload()

  return {
    items,
    loading,
    error,
    page,
    pageSize,
    total,
    exactTotal,
    pageCount,
    hasNext,
    hasPrev,
    reload,
    refresh,
    goTo,
    next,
    prev,
    setPageSize,
  }
}

export type PagedList<T> = ReturnType<typeof usePagedList<T>>
