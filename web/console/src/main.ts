import { configureApi, useSessionStore } from '@zoufang/shared'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createConsoleRouter } from './router'
import './styles/base.css'
// Element Plus services used from code (not as components) bring their CSS here.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'

const pinia = createPinia()
const router = createConsoleRouter(pinia)

// A 401 from any call: the session ended (expired, signed out elsewhere,
// account disabled). Forget it and go back to sign-in, remembering the page.
configureApi({
  baseUrl: '',
  onUnauthorized: () => {
    useSessionStore(pinia).expire()
    const here = router.currentRoute.value
    if (here.name !== 'login') {
      void router.replace({ name: 'login', query: { redirect: here.fullPath } })
    }
  },
})

createApp(App).use(pinia).use(router).mount('#app')
