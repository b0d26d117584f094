/**
 * The township a page works in: the person's own when their scope is one
 * (or a village of one), else a choice among the county's townships.
 */
import { regionCodeOfScope, useSessionStore } from '@zoufang/shared'
import { computed, ref } from 'vue'
import { useNamesStore, type RegionRow } from './names'

export function useTownship() {
  const session = useSessionStore()
  const names = useNamesStore()
  const scope = session.user?.scope ?? ''
  /** Fixed when the scope is a township or below. */
  const fixed = scope.length >= 9
  const township = ref(fixed ? regionCodeOfScope(scope.slice(0, 9)) : '')
  const townships = ref<RegionRow[]>([])

  async function load(): Promise<void> {
    if (fixed) {
      await names.ensureRegions([township.value])
      return
    }
    const county = scope.length >= 6 ? regionCodeOfScope(scope.slice(0, 6)) : ''
    townships.value = county ? await names.childrenOf(county) : []
    township.value ||= townships.value[0]?.code ?? ''
  }

  const townshipName = computed(() => names.regionName(township.value))
  return { fixed, township, townships, townshipName, load }
}
