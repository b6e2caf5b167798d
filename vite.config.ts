// One config, four targets, chosen by TARGET:
//   chrome       store build: MV3 service worker, host permissions requested per site at run time
//   chrome-test  chrome + host permissions for http://127.0.0.1/* and http://localhost/* (tests, demo)
//   firefox      MV3 with background.scripts and browser_specific_settings.gecko
//   cli          the Node command line tool (dist/cli/atlassian-audit.mjs)
import { crx, type ManifestV3Export } from '@crxjs/vite-plugin'
import preact from '@preact/preset-vite'
import { defineConfig, type UserConfig } from 'vite'
import base from './manifest.json' with { type: 'json' }

type Target = 'chrome' | 'chrome-test' | 'firefox' | 'cli'
const target = (process.env.TARGET ?? 'chrome') as Target
const pkg = { version: base.version }

export const GECKO_ID = 'audit-log-collector@atlassian-audit.example'
const LOCAL_HOSTS = ['http://127.0.0.1/*', 'http://localhost/*']

function manifestFor(t: Exclude<Target, 'cli'>): ManifestV3Export {
  const m = structuredClone(base) as Record<string, unknown> & typeof base
  if (t === 'chrome-test') {
    ;(m as Record<string, unknown>).host_permissions = LOCAL_HOSTS
  }
  if (t === 'firefox') {
    // crxjs reads background.scripts[0] for Firefox (see docs/extension-engineering.md §1.5).
    ;(m as Record<string, unknown>).background = { scripts: [base.background.service_worker], type: 'module' }
    ;(m as Record<string, unknown>).browser_specific_settings = {
      gecko: { id: GECKO_ID, strict_min_version: '140.0', data_collection_permissions: { required: ['none'] } },
      gecko_android: { strict_min_version: '142.0' },
    }
  }
  return m as ManifestV3Export
}

export default defineConfig((): UserConfig => {
  if (target === 'cli') {
    return {
      build: {
        ssr: 'src/cli/atlassian-audit.ts',
        outDir: 'dist/cli',
        emptyOutDir: true,
        target: 'node20',
        sourcemap: false,
        rollupOptions: { output: { entryFileNames: 'atlassian-audit.mjs', format: 'es' as const } },
      },
      publicDir: false as const,
      ssr: { noExternal: true as const, target: 'node' as const },
      define: { __APP_VERSION__: JSON.stringify(pkg.version) },
    }
  }
  const outDir = `dist/${target}`
  return {
    plugins: [preact(), crx({ manifest: manifestFor(target), browser: target === 'firefox' ? 'firefox' : 'chrome' })],
    define: { __APP_VERSION__: JSON.stringify(pkg.version) },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      rollupOptions: {
        input: {
          dashboard: 'src/extension/dashboard/index.html',
          bench: 'src/extension/bench/index.html',
        },
      },
    },
  }
})
