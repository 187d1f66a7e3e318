// Test configuration: one vitest project per workspace package, resolving
// workspace imports to TypeScript sources (the "source" export condition).
import { readdirSync, existsSync } from 'node:fs'
import { defineConfig } from 'vitest/config'
import SummaryReporter from './vitest.summary-reporter.js'

const packages = readdirSync(new URL('./packages/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`packages/${entry.name}/package.json`))
  .map((entry) => entry.name)

export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'default'] } },
  test: {
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: `packages/${name}`,
        include: ['src/**/*.test.ts'],
        typecheck: {
          enabled: true,
          include: ['src/**/*.test-d.ts'],
          tsconfig: './tsconfig.json',
        },
      },
    })),
    reporters: ['default', new SummaryReporter()],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
