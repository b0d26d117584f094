/**
 * The campaigns a page can choose from (the first 200 of the person's
 * scope, newest first), with the one to preselect: the route's
 * ?campaign_id=, else the active one, else the newest.
 */
import { call, type RpcResponse } from '@zoufang/shared'
import { ref } from 'vue'

export type CampaignItem = NonNullable<RpcResponse<'registry', 'ListCampaigns'>['campaigns']>[number]

export function useCampaignChoice() {
  const campaigns = ref<CampaignItem[]>([])
  const chosen = ref('')
  const error = ref('')

  async function load(preferred?: string): Promise<void> {
    try {
      const r = await call('registry', 'ListCampaigns', { page_size: 200, page_token: '' })
      campaigns.value = r.campaigns ?? []
    } catch (err) {
      error.value = (err as Error).message
      campaigns.value = []
    }
    chosen.value = pick(campaigns.value, preferred)
  }

  return { campaigns, chosen, error, load }
}

export function pick(list: CampaignItem[], preferred?: string): string {
  if (preferred && list.some((c) => c.campaign_id === preferred)) return preferred
  return (
    list.find((c) => c.status === 'CAMPAIGN_STATUS_ACTIVE')?.campaign_id ??
    list.find((c) => c.status === 'CAMPAIGN_STATUS_PLANNED')?.campaign_id ??
    list[0]?.campaign_id ??
    ''
  )
}

/** 进行中 / 未开始 / 已结束 after a campaign's name in a select. */
export function campaignOptionLabel(c: CampaignItem): string {
  const s =
    c.status === 'CAMPAIGN_STATUS_ACTIVE' ? '进行中' : c.status === 'CAMPAIGN_STATUS_PLANNED' ? '未开始' : '已结束'
  return `${c.name}（${s}）`
}
