import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  // import.meta.url in the CommonJS build (version.ts reads package.json through it).
  shims: true,
})
