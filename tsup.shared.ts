// The build every library package shares: ESM + CommonJS + .d.ts from src/index.ts, for Node 22+.
import { defineConfig } from 'tsup'

export const libraryBuild = defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  // import.meta.url in the CommonJS build (packages read their package.json through it).
  shims: true,
})
