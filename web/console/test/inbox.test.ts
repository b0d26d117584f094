import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { STREAM_PATH, useInboxStore } from '@/stores/inbox'
import { fakeGateway } from '../../shared/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

class FakeSource {
  url: string
  listeners: Record<string, ((e: MessageEvent<string>) => void)[]> = {}
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  closed = false
  constructor(url: string) {
    this.url = url
  }
  addEventListener(name: string, fn: (e: MessageEvent<string>) => void) {
    ;(this.listeners[name] ??= []).push(fn)
  }
  emit(name: string, data: unknown) {
    for (const fn of this.listeners[name] ?? []) fn({ data: JSON.stringify(data) } as MessageEvent<string>)
  }
  close() {
    this.closed = true
  }
}

describe('the inbox store', () => {
  it('counts unread from the service, then each message of the stream once', async () => {
    let count = 3
    const seen = fakeGateway((r) => (r.path.endsWith('GetUnreadCount') ? { status: 200, body: { unread_count: String(count) } } : { status: 404 }))
    const store = useInboxStore()
    let source: FakeSource | null = null
    store.start((url) => (source = new FakeSource(url)) as unknown as EventSource)
    await flushPromises()
    expect(source!.url).toBe(STREAM_PATH)
    expect(store.unread).toBe(3)
    source!.emit('notification', { notification_id: 'n-1', title: '新回访任务', link: '/callbacks/c-1' })
    source!.emit('notification', { notification_id: 'n-1', title: '新回访任务' })
    expect(store.unread).toBe(4)
    expect(store.arrived.map((n) => n.notification_id)).toEqual(['n-1'])
    // A reconnect reads the count again (messages missed meanwhile count).
    count = 9
    source!.onopen?.()
    await flushPromises()
    expect(store.unread).toBe(9)
    expect(seen.filter((s) => s.path.endsWith('GetUnreadCount')).length).toBe(2)
    store.stop()
    expect(source!.closed).toBe(true)
    expect(store.unread).toBe(0)
  })
})
