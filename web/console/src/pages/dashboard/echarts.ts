/**
 * The ECharts parts the 驾驶舱 uses, registered once: only these enter the
 * dashboard's lazy chunk (echarts/core, not the whole library).
 */
import { BarChart, FunnelChart, LineChart, PieChart } from 'echarts/charts'
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import VChart from 'vue-echarts'

use([CanvasRenderer, BarChart, LineChart, FunnelChart, PieChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent])

export { VChart }
