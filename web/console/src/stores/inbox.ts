/**
 * The inbox's live state for the whole console: the unread count (for the
 * header badge; GetUnreadCount at start) and the notifications that arrive
 * while the console is open, over SSE (`GET /v1/notify/inbox/stream`, one
 * `notification` event per message; the browser sends the session cookie).
 * The EventSource reconnects by itself; the count is read again then, so a
 * message missed during the gap still counts.
 */
import { call, type RpcResponse } from '@zoufang/shared'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

export type Notification = NonNullable<RpcResponse<'notify', 'ListInbox'>['notifications']>[number]

export const STREAM_PATH = '/v1/notify/inbox/stream'

export const useInboxStore = defineStore('inbox', () => {
  const unread = ref(0)
  /** Newest first: what arrived over the stream since the console opened. */
  const arrived = shallowRef<Notification[]>([])
  const connected = ref(false)
  let source: EventSource | null = null

  async function refreshCount() {
    try {
      const r = await call('notify', 'GetUnreadCount', {})
      unread.value = Number(r.unread_count ?? 0)
    } catch {
      /* the badge keeps its last figure */
    }
  }

  function onNotification(data: string) {
    let n: Notification
    try {
      n = JSON.parse(data) as Notification
    } catch {
      return
    }
    if (n.notification_id && arrived.value.some((x) => x.notification_id === n.notification_id)) return
    arrived.value = [n, ...arrived.value].slice(0, 200)
    if (!n.read_at) unread.value += 1
  }

  function start(factory: (url: string) => EventSource = (url) => new EventSource(url, { withCredentials: true })) {
    if (source) return
    void refreshCount()
    if (typeof EventSource === 'undefined' && factory.length === 0) return
    try {
      source = factory(STREAM_PATH)
    } catch {
      source = null
      return
    }
    source.addEventListener('notification', (e) => onNotification((e as MessageEvent<string>).data))
    source.onopen = () => {
      if (!connected.value) {
        connected.value = true
        void refreshCount()
      }
    }
    source.onerror = () => {
      connected.value = false
    }
  }

  function stop() {
    source?.close()
    source = null
    connected.value = false
    arrived.value = []
    unread.value = 0
  }

  /** After MarkRead: the count the service answered. */
  function setUnread(n: number | string | undefined) {
    if (n !== undefined) unread.value = Number(n)
  }

  return { unread, arrived, connected, start, stop, refreshCount, setUnread, onNotification }
})
