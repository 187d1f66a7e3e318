// A compressed file sent to a PACS that takes only uncompressed syntaxes: re-encoded on the way,
// identical pixels on arrival, and not a word on the console (dcmjs logs there by default).
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readDicomHeader, readFramePixels } from '@pacsflow/imaging'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { storescu } from './storescu.js'
import { copySeries, removeDir, stageContext, startStorescp, tempDir } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = haveTools('storescp', 'dcmcjpeg') && dataDir !== undefined
const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70'
const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1'

describe.skipIf(!ready)('sending compressed files to an uncompressed-only PACS', () => {
  let scratch: string
  let compressed: string[]

  beforeAll(() => {
    scratch = tempDir('storescu-transcode')
    const originals = copySeries(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'original')).slice(0, 3)
    compressed = originals.map((file, i) => {
      const out = join(scratch, `jpeg-${i}.dcm`)
      execFileSync('dcmcjpeg', ['+e1', file, out])
      return out
    })
  })

  afterAll(() => removeDir(scratch))

  it('re-encodes each to Explicit VR Little Endian with identical pixels and stays off the console', async () => {
    // storescp's default profile accepts the uncompressed syntaxes only.
    const received = join(scratch, 'received')
    await mkdir(received)
    const scp = await startStorescp(received)
    const consoleCalls = [vi.spyOn(console, 'log'), vi.spyOn(console, 'warn'), vi.spyOn(console, 'error'), vi.spyOn(console, 'info')]
    try {
      const stage = storescu({ host: '127.0.0.1', port: scp.port, calledAet: scp.aet, retry: { maxAttempts: 1 } })
      const receipt = await stage.run({ files: compressed }, stageContext(join(scratch, 'work')))
      expect(receipt.instances.map((instance) => instance.status)).toEqual(['stored', 'stored', 'stored'])
      expect(consoleCalls.every((spy) => spy.mock.calls.length === 0)).toBe(true)
    } finally {
      consoleCalls.forEach((spy) => spy.mockRestore())
      await scp.stop()
    }
    const arrived = readdirSync(received).map((name) => join(received, name))
    expect(arrived).toHaveLength(3)
    for (const sourcePath of compressed) {
      const source = await readDicomHeader(sourcePath)
      expect(source.transferSyntaxUid).toBe(JPEG_LOSSLESS_SV1)
      const match = await Promise.all(arrived.map((path) => readDicomHeader(path)))
      const copy = match.find((instance) => instance.sopInstanceUid === source.sopInstanceUid)!
      expect(copy.transferSyntaxUid).toBe(EXPLICIT_LITTLE)
      expect(Array.from(await readFramePixels(copy))).toEqual(Array.from(await readFramePixels(source)))
    }
  })
})
