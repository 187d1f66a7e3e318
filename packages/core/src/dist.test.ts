// The published build: `import` and `require` of @pacsflow/core both work (npm test builds first).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const dist = fileURLToPath(new URL('../dist', import.meta.url))
const names = ['pipeline', 'createRunner', 'defineStage', 'fileJobStore', 'PacsflowError']

async function node(args: string[]): Promise<string> {
  // No "source" condition here: plain Node resolves the package exports to dist.
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: repoRoot })
  return stdout
}

describe('@pacsflow/core build', () => {
  it('has been built', () => {
    expect(existsSync(`${dist}/index.js`) && existsSync(`${dist}/index.cjs`) && existsSync(`${dist}/index.d.ts`),
      'packages/core/dist is missing: run `npm run build` (npm test does)').toBe(true)
  })

  it('imports from ESM', async () => {
    const code = `import { ${names.join(', ')} } from '@pacsflow/core'
      const runner = createRunner({ pipeline: pipeline(defineStage({ name: 'x', run: async (n) => n + 1 })), store: (await import('@pacsflow/core')).memoryJobStore() })
      console.log(JSON.stringify([typeof fileJobStore, new PacsflowError('UNKNOWN', 'm').code, await runner.run(1)]))`
    expect(JSON.parse(await node(['--input-type=module', '-e', code]))).toEqual(['function', 'UNKNOWN', 2])
  })

  it('requires from CommonJS', async () => {
    const code = `const core = require('@pacsflow/core')
      const runner = core.createRunner({ pipeline: core.pipeline(core.defineStage({ name: 'x', run: async (n) => n * 3 })), store: core.memoryJobStore() })
      runner.run(2).then((out) => console.log(JSON.stringify([${names.map((n) => `typeof core.${n}`).join(', ')}, out])))`
    expect(JSON.parse(await node(['--input-type=commonjs', '-e', code]))).toEqual([...names.map(() => 'function'), 6])
  })
})
