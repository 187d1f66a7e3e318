// Large instances stream from disk unchanged; the caller's signal stops a send at once and keeps the outbox.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicomDataset } from '@pacsflow/imaging'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { storescu } from './storescu.js'
import { copySeries, datasetBytes, removeDir, stageContext, startStorescp, tempDir } from './test-support/fixtures.js'
import { writeSyntheticInstance } from './test-support/synthetic.js'

const dataDir = testDataDir()
const ready = haveTools('storescp') && dataDir !== undefined

describe.skipIf(!ready)('storescu streaming and cancellation', () => {
  let scratch: string
  let mr: string[]

  beforeAll(() => {
    scratch = tempDir('storescu-stream')
    mr = copySeries(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'mr'))
  })
  afterAll(() => removeDir(scratch))

  it('streams a 42 MB instance; storescp (bit-preserving) writes the very same data set', async () => {
    const big = join(scratch, 'big.dcm')
    await writeSyntheticInstance(big, await readDicomDataset(mr[0]!), { rows: 512, columns: 512, frames: 80 })
    const received = tempDir('storescu-big')
    const scp = await startStorescp(received, ['+B'])
    const workDir = tempDir('storescu-big-work')
    try {
      const stage = storescu({ host: '127.0.0.1', port: scp.port, calledAet: scp.aet })
      const receipt = await stage.run({ files: [big, mr[1]!] }, stageContext(workDir))
      expect(receipt).toMatchObject({ stored: 2, failed: 0 })
      const [bigCopy] = readdirSync(received).map((name) => readFileSync(join(received, name))).filter((bytes) => bytes.length > 40e6)
      expect(bigCopy).toBeDefined()
      expect(datasetBytes(bigCopy!).equals(datasetBytes(readFileSync(big)))).toBe(true)
    } finally {
      await scp.stop()
      removeDir(received)
      removeDir(workDir)
    }
  }, 60_000)

  it('aborting the signal mid-send throws ABORTED promptly; a rerun sends only what was not acknowledged', async () => {
    const received = tempDir('storescu-abort')
    // storescp sleeps a second after each store: the abort lands while the next request waits.
    const slow = await startStorescp(received, ['--sleep-after', '1'])
    const workDir = tempDir('storescu-abort-work')
    try {
      const stage = storescu({ host: '127.0.0.1', port: slow.port, calledAet: slow.aet })
      const controller = new AbortController()
      let abortedAt = 0
      // Abort as soon as the first instance is acknowledged.
      const context = {
        ...stageContext(workDir, controller.signal),
        progress: (fraction: number) => {
          if (fraction > 0 && abortedAt === 0) {
            abortedAt = Date.now()
            controller.abort(new Error('stop'))
          }
        },
      }
      const error = await stage.run({ files: mr.slice(0, 10) }, context).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ABORTED' })
      expect(Date.now() - abortedAt).toBeLessThan(500)
      await slow.stop()
      // Same address: the outbox is per destination.
      const fast = await startStorescp(received, [], slow.aet, slow.port)
      try {
        const receipt = await storescu({ host: '127.0.0.1', port: fast.port, calledAet: fast.aet }).run({ files: mr.slice(0, 10) }, stageContext(workDir))
        expect(receipt.alreadyStored).toBeGreaterThanOrEqual(1)
        expect(receipt.alreadyStored + receipt.stored).toBe(10)
        expect(receipt.failed).toBe(0)
      } finally {
        await fast.stop()
      }
    } finally {
      await slow.stop()
      removeDir(received)
      removeDir(workDir)
    }
  }, 60_000)
})
