/**
 * ECharts, only the parts the console draws (tree-shaken through
 * `echarts/core`). Import `VChart` from here, never from 'echarts' whole:
 *
 *   import { VChart } from '@/charts/echarts'
 *   <VChart :option="option" autoresize style="height: 320px" />
 *
 * A page that needs another chart type or component adds it to `use()`.
 * Only the pages that import this file load it (they are lazy chunks).
 */
import { BarChart, FunnelChart, LineChart, PieChart } from 'echarts/charts'
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([
  CanvasRenderer,
  BarChart,
  LineChart,
  PieChart,
  FunnelChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DataZoomComponent,
  MarkLineComponent,
])

export { default as VChart } from 'vue-echarts'

/** The console's series colours (outcomes: good green, late amber, overdue red). */
export const COLORS = {
  primary: '#1f4e8c',
  good: '#67c23a',
  warn: '#e6a23c',
  bad: '#f56c6c',
  neutral: '#909399',
} as const
