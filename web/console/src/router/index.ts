/**
 * The router: the page table (routes.ts) inside the layout, plus sign-in,
 * the forced password change, 403 and 404. The guard restores the session
 * once, sends the signed-out to sign in (remembering where they were
 * going), holds everyone whose password must change on that page, and
 * sends a person to 403 when the table does not offer them the page.
 */
import { useSessionStore, type Role } from '@zoufang/shared'
import type { Pinia } from 'pinia'
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteRecordRaw,
  type Router,
} from 'vue-router'
import { PAGES, homeFor, mayOpen, type Allowed } from './routes'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Who may open the page (absent: any signed-in person). */
    roles?: Allowed
    /** Open without a session (sign-in). */
    public?: boolean
    /** Allowed while the password must still change. */
    duringPasswordChange?: boolean
    activeMenu?: string
  }
}

export const PRODUCT_NAME = '走访平台 · 管理端'

export function buildRoutes(): RouteRecordRaw[] {
  return [
    {
      path: '/login',
      name: 'login',
      component: () => import('@/pages/system/LoginPage.vue'),
      meta: { title: '登录', public: true },
    },
    {
      path: '/password',
      name: 'password',
      component: () => import('@/pages/system/PasswordPage.vue'),
      meta: { title: '修改密码', duringPasswordChange: true },
    },
    {
      path: '/',
      component: () => import('@/layout/ConsoleLayout.vue'),
      children: [
        // `/` leads to the person's home page (the guard redirects).
        { path: '', name: 'home', component: () => import('@/pages/system/HomeRedirect.vue') },
        ...PAGES.map<RouteRecordRaw>((p) => ({
          path: p.path.slice(1),
          name: p.name,
          component: p.component,
          meta: { title: p.title, roles: p.roles, activeMenu: p.activeMenu ?? p.path },
        })),
        {
          path: '403',
          name: 'forbidden',
          component: () => import('@/pages/system/ForbiddenPage.vue'),
          meta: { title: '无权访问' },
        },
        {
          path: ':pathMatch(.*)*',
          name: 'not-found',
          component: () => import('@/pages/system/NotFoundPage.vue'),
          meta: { title: '页面不存在' },
        },
      ],
    },
  ]
}

/** Where the guard sends a navigation (true: let it through). */
export async function guard(
  to: RouteLocationNormalized,
  pinia?: Pinia,
): Promise<true | { name: string; query?: Record<string, string>; replace?: boolean } | string> {
  const session = useSessionStore(pinia)
  await session.restore()
  if (to.meta.public) {
    if (to.name === 'login' && session.signedIn) {
      return session.mustChangePassword ? { name: 'password' } : safeRedirect(to.query.redirect) ?? '/'
    }
    return true
  }
  if (!session.signedIn) {
    const query: Record<string, string> = to.fullPath === '/' ? {} : { redirect: to.fullPath }
    return { name: 'login', query }
  }
  if (session.mustChangePassword && !to.meta.duringPasswordChange) {
    return { name: 'password', query: { redirect: to.fullPath } }
  }
  if (to.name === 'home') return homeFor(session.roles as Role[])
  const allowed = to.meta.roles
  if (allowed && !mayOpen(allowed, session.roles)) {
    return { name: 'forbidden', query: { from: to.fullPath } }
  }
  return true
}

/**
 * A `redirect` query as a path inside the app, or null: only a local path
 * (`/issues/…`), never `//host` or `https://…`, so a crafted sign-in link
 * cannot send a person elsewhere after signing in.
 */
export function safeRedirect(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return null
  if (v.startsWith('/login')) return null
  return v
}

export function createConsoleRouter(pinia?: Pinia, history = createWebHistory()): Router {
  const router = createRouter({
    history,
    routes: buildRoutes(),
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  router.beforeEach((to) => guard(to, pinia))
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} - ${PRODUCT_NAME}` : PRODUCT_NAME
  })
  return router
}
