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

  it('rejects for a missing file, and with the reason when aborted', async () => {
    await expect(fileDigest(join(scratch, 'missing.nii'))).rejects.toThrow(/missing\.nii/)
    const controller = new AbortController()
    const pending = fileDigest(join(scratch, 'data.bin'), controller.signal)
    controller.abort(new Error('stopped'))
    await expect(pending).rejects.toThrow('stopped')
    await expect(fileDigest('x', controller.signal)).rejects.toThrow('stopped')
  })
})
