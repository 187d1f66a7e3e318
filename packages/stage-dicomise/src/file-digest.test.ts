import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fileDigest } from './file-digest.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-digest-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('fileDigest', () => {
  it('is the SHA-256 of the whole file, computed on a worker', async () => {
    const path = join(scratch, 'data.bin')
    const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31) & 255)
    writeFileSync(path, bytes)
    expect(await fileDigest(path)).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  it('serves concurrent requests from one worker, each with its own answer', async () => {
    const files = [1, 2, 3].map((n) => {
      const path = join(scratch, `part${n}.bin`)
      const bytes = new Uint8Array(n * 100_000 + n).map((_, i) => (i * n) & 255)
      writeFileSync(path, bytes)
      return { path, expected: createHash('sha256').update(bytes).digest('hex') }
    })
    const digests = await Promise.all(files.map((file) => fileDigest(file.path)))
    expect(digests).toEqual(files.map((file) => file.expected))
    expect(new Set(digests).size).toBe(3)
  })

  it('does not keep a process alive once its digests are done', () => {
    const path = join(scratch, 'data.bin')
    const script = `import { fileDigest } from './src/file-digest.ts'; console.log(await fileDigest(${JSON.stringify(path)}))`
    const started = Date.now()
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      timeout: 15_000,
      encoding: 'utf8',
    })
    expect(out.trim()).toMatch(/^[0-9a-f]{64}$/)
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('rejects for a missing file, and with the reason when aborted', async () => {
    await expect(fileDigest(join(scratch, 'missing.nii'))).rejects.toThrow(/missing\.nii/)
    const controller = new AbortController()
    const pending = fileDigest(join(scratch, 'data.bin'), controller.signal)
    controller.abort(new Error('stopped'))
    await expect(pending).rejects.toThrow('stopped')
    await expect(fileDigest('x', controller.signal)).rejects.toThrow('stopped')
  })
})
