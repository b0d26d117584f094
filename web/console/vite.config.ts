import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// The gateway a `npm run dev` talks to (the Vite dev server proxies the API
// there, so the session cookie stays same-origin).
const gateway = process.env.ZF_GATEWAY_URL ?? 'http://127.0.0.1:8080'
// The gateway's build script builds with ZF_WEB_NO_DTS=1: the plugins' type
// declarations belong to the source tree, which a cargo build leaves alone.
const dts = process.env.ZF_WEB_NO_DTS !== '1'

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus on demand: only the components and services a page uses
    // enter its chunk, each with its own CSS.
    AutoImport({
      resolvers: [ElementPlusResolver()],
      dts: dts && 'src/auto-imports.d.ts',
    }),
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
      dts: dts && 'src/components.d.ts',
      // Our own shared components are imported explicitly.
      dirs: [],
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/v1': { target: gateway, changeOrigin: false },
      '/openapi.json': gateway,
      '/docs': gateway,
    },
  },
  build: {
    outDir: process.env.ZF_WEB_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    chunkSizeWarningLimit: 800,
    // The manifest lets scripts/bundle-size.mjs find the entry's static imports.
    manifest: true,
    rollupOptions: {
      output: {
        // Vue, the router and pinia change rarely: one long-cached chunk.
        manualChunks(id) {
          if (/node_modules\/(@vue|vue|vue-router|pinia)\//.test(id)) return 'vue'
          return undefined
        },
      },
    },
  },
})
