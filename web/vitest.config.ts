// Component and unit tests of both workspaces (`npm test`), in happy-dom.
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [
    vue(),
    Components({ resolvers: [ElementPlusResolver({ importStyle: false })], dts: false, dirs: [] }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./console/src', import.meta.url)) },
  },
  test: {
    environment: 'happy-dom',
    // The machine is shared: a cold transform of a page can take seconds.
    testTimeout: 20_000,
    include: ['shared/test/**/*.test.ts', 'console/test/**/*.test.ts'],
    server: { deps: { inline: ['element-plus'] } },
  },
})
