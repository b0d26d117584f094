/**
 * 启动 / 结束 a campaign, each after a confirmation that says what follows:
 * planned → active → closed; a closed campaign never reopens.
 */
import { call, errorMessage } from '@zoufang/shared'
import { ElMessage, ElMessageBox } from 'element-plus'

export type CampaignStatus = 'CAMPAIGN_STATUS_ACTIVE' | 'CAMPAIGN_STATUS_CLOSED'

export const isPlanned = (s?: string) => s === 'CAMPAIGN_STATUS_PLANNED'
export const isActive = (s?: string) => s === 'CAMPAIGN_STATUS_ACTIVE'
export const isClosed = (s?: string) => s === 'CAMPAIGN_STATUS_CLOSED'

export const STATUS_TAG: Record<string, 'info' | 'success' | 'warning' | 'primary'> = {
  CAMPAIGN_STATUS_PLANNED: 'warning',
  CAMPAIGN_STATUS_ACTIVE: 'success',
  CAMPAIGN_STATUS_CLOSED: 'info',
}

/** Asks, then sets the status; true when it changed. */
export async function setStatus(c: { campaign_id?: string; name?: string }, status: CampaignStatus): Promise<boolean> {
  const activate = status === 'CAMPAIGN_STATUS_ACTIVE'
  try {
    await ElMessageBox.confirm(
      activate
        ? `启动后，干部即可在“${c.name}”中记录走访，活动进入统计。确定启动吗？`
        : `结束后，“${c.name}”不再接收走访记录，活动信息和任务指标不可再修改，且不能重新开启。确定结束吗？`,
      activate ? '启动活动' : '结束活动',
      {
        confirmButtonText: activate ? '确定启动' : '确定结束',
        cancelButtonText: '取消',
        type: activate ? 'info' : 'warning',
      },
    )
  } catch {
    return false
  }
  try {
    await call('registry', 'SetCampaignStatus', { campaign_id: c.campaign_id!, status })
    ElMessage.success(activate ? '活动已启动' : '活动已结束')
    return true
  } catch (err) {
    ElMessage.error(errorMessage(err))
    return false
  }
}
