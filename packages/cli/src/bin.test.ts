// The built executable, as a user runs it (npm test builds before testing).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../bin/pacsflow.js', import.meta.url))
const built = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

describe('the pacsflow executable', () => {
  it('runs from the build and lists its commands', async () => {
    expect(existsSync(built), 'packages/cli/dist is missing: run `npm run build` (npm test does)').toBe(true)
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help'])
    expect(stdout).toContain('Usage: pacsflow <command>')
    const failed = await promisify(execFile)(process.execPath, [bin, 'nope']).catch((error: { code: number }) => error)
    expect(failed).toMatchObject({ code: 2 })
  })
})
