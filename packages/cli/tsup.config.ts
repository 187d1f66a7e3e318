import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts', compilerOptions: { composite: false, emitDeclarationOnly: false } },
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
})
