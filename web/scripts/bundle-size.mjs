#!/usr/bin/env node
// Prints the console's initial JavaScript (the entry chunk and everything it
// imports statically, i.e. what the browser must load before the first
// page shows) gzipped, and fails when it is above the budget.
//
//   node scripts/bundle-size.mjs [dist-dir]    (default console/dist)
//
// Lazy chunks (every page: route-level code splitting) are listed apart and
// do not count against the budget.
import { readFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'

const BUDGET_KB = 350
const dist = resolve(process.argv[2] ?? process.env.ZF_WEB_OUT_DIR ?? new URL('../console/dist', import.meta.url).pathname)
const manifestPath = join(dist, '.vite', 'manifest.json')
if (!existsSync(manifestPath)) {
  console.error(`bundle-size: no ${manifestPath}; build first (npm run build -w console)`)
  process.exit(2)
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
const entries = Object.entries(manifest).filter(([, c]) => c.isEntry)
if (entries.length === 0) {
  console.error('bundle-size: the manifest names no entry chunk')
  process.exit(2)
}

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length
const kb = (n) => (n / 1024).toFixed(1)

// The entry and its static imports, transitively.
const initial = new Set()
const initialCss = new Set()
const visit = (key) => {
  const chunk = manifest[key]
  if (!chunk || initial.has(chunk.file)) return
  initial.add(chunk.file)
  for (const css of chunk.css ?? []) initialCss.add(css)
  for (const dep of chunk.imports ?? []) visit(dep)
}
for (const [key] of entries) visit(key)

const rows = [...initial].map((f) => [f, gz(f)]).sort((a, b) => b[1] - a[1])
const total = rows.reduce((s, [, n]) => s + n, 0)
const cssTotal = [...initialCss].reduce((s, f) => s + gz(f), 0)
const lazy = Object.values(manifest)
  .filter((c) => c.file.endsWith('.js') && !initial.has(c.file))
  .map((c) => [c.file, gz(c.file)])
  .sort((a, b) => b[1] - a[1])

console.log('Initial JavaScript (entry + static imports), gzipped:')
for (const [f, n] of rows) console.log(`  ${kb(n).padStart(8)} KB  ${f}`)
console.log(`  ${kb(total).padStart(8)} KB  total (budget ${BUDGET_KB} KB)`)
console.log(`Initial CSS, gzipped: ${kb(cssTotal)} KB`)
console.log(`Lazy chunks: ${lazy.length}, largest: ${lazy.slice(0, 5).map(([f, n]) => `${f} ${kb(n)} KB`).join(', ') || '—'}`)
if (total > BUDGET_KB * 1024) {
  console.error(`bundle-size: initial JavaScript ${kb(total)} KB gzipped is above the ${BUDGET_KB} KB budget`)
  process.exit(1)
}
