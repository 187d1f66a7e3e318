// What a real DCMTK storescp answers, and what the receipt and the job make of it: refusals, failures, retries, fallbacks.
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mkdir, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRunner, fileJobStore, isPacsflowError, PacsflowError, pipeline, sleep } from '@pacsflow/core'
import { readDicomDataset, readDicomHeader, readFramePixels, rawValue, writePart10 } from '@pacsflow/imaging'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { storescu } from './storescu.js'
import { copySeries, removeDir, stageContext, startStorescp, tempDir, type Storescp } from './test-support/fixtures.js'
import type { StorescuOptions, StoreReceipt } from './types.js'

const dataDir = testDataDir()
const ready = haveTools('storescp', 'storescu') && dataDir !== undefined

// A storescp association profile that accepts MR Image Storage only (and Verification).
const MR_ONLY_PROFILE = `[[TransferSyntaxes]]
[Uncompressed]
TransferSyntax1 = LocalEndianExplicit
TransferSyntax2 = OppositeEndianExplicit
TransferSyntax3 = LittleEndianImplicit
[[PresentationContexts]]
[MROnly]
PresentationContext1 = VerificationSOPClass\\Uncompressed
PresentationContext2 = MRImageStorage\\Uncompressed
[[Profiles]]
[MROnly]
PresentationContexts = MROnly
`

describe.skipIf(!ready)('storescu against DCMTK storescp', () => {
  let scratch: string
  let mr: string[]
  let enhanced: string[]

  beforeAll(() => {
    scratch = tempDir('storescu-scp')
    mr = copySeries(dataDir!, 'dcm_qa_fmap/Siemens_3_gre_field_magph', join(scratch, 'mr'))
    enhanced = copySeries(dataDir!, 'dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', join(scratch, 'enhanced'))
    writeFileSync(join(scratch, 'mr-only.cfg'), MR_ONLY_PROFILE)
  })
  afterAll(() => removeDir(scratch))

  async function withReceiver<T>(extra: readonly string[], use: (scp: Storescp, outDir: string) => Promise<T>): Promise<T> {
    const outDir = tempDir('storescu-received')
    const scp = await startStorescp(outDir, extra)
    try {
      return await use(scp, outDir)
    } finally {
      await scp.stop()
      removeDir(outDir)
    }
  }

  /** Runs the stage through a real runner (no runner retries), returning the receipt or the stage's own error. */
  async function runJob(scp: Storescp, files: readonly string[], options: Partial<StorescuOptions>): Promise<StoreReceipt | PacsflowError> {
    const stage = storescu({ host: '127.0.0.1', port: scp.port, calledAet: scp.aet, retry: { maxAttempts: 1 }, ...options })
    const store = tempDir('storescu-jobs')
    const runner = createRunner({ pipeline: pipeline(stage), store: fileJobStore(store), retry: { maxAttempts: 1 } })
    try {
      return await runner.run({ files })
    } catch (error) {
      if (!isPacsflowError(error, 'STAGE_FAILED')) throw error
      expect(error.stage).toBe('storescu')
      return error.cause as PacsflowError
    } finally {
      await runner.stop()
      removeDir(store)
    }
  }

  function receiptOf(error: StoreReceipt | PacsflowError): StoreReceipt {
    if (!(error instanceof PacsflowError)) throw new Error(`expected the job to fail, it returned ${JSON.stringify(error).slice(0, 200)}`)
    return error.details?.receipt as StoreReceipt
  }

  it.each(['dimse', 'dcmtk'] as const)('a refused SOP class fails those instances by name, stores the rest, and fails the job (%s)', async (transport) => {
    await withReceiver(['-xf', join(scratch, 'mr-only.cfg'), 'MROnly'], async (scp, outDir) => {
      const outcome = await runJob(scp, [...mr, ...enhanced], { transport })
      expect(outcome).toBeInstanceOf(PacsflowError)
      const error = outcome as PacsflowError
      expect(error.code).toBe('STORE_SOP_CLASS_REFUSED')
      expect(error.retryable).toBe(false)
      expect(error.message).toMatch(/4 of 40 instance\(s\) were not stored on RECEIVER@127\.0\.0\.1/)
      const receipt = receiptOf(error)
      expect(receipt).toMatchObject({ total: 40, stored: 36, failed: 4 })
      const failed = receipt.instances.filter((instance) => instance.status === 'failed')
      expect(failed.map((instance) => instance.path).sort()).toEqual([...enhanced].sort())
      expect(failed.every((instance) => instance.error?.code === 'STORE_SOP_CLASS_REFUSED' && instance.sopClassUid === '1.2.840.10008.5.1.4.1.1.4.1')).toBe(true)
      expect(readdirSync(outDir).filter((name) => name.startsWith('MR.'))).toHaveLength(36)
    })
  }, 60_000)

  it('a failure status (0xC000 Cannot Understand) fails that instance with its status; the others are stored', async () => {
    // A data set without SOPInstanceUID (its meta group still names one): storescp cannot understand it.
    const broken = await readDicomDataset(mr[0]!)
    delete broken.dict['00080018']
    const brokenPath = join(scratch, 'broken.dcm')
    writeFileSync(brokenPath, writePart10(broken))
    await withReceiver([], async (scp) => {
      const receipt = receiptOf(await runJob(scp, [brokenPath, ...mr.slice(1, 11)], {}))
      expect(receipt).toMatchObject({ total: 11, stored: 10, failed: 1 })
      expect(receipt.instances[0]).toMatchObject({
        path: brokenPath,
        status: 'failed',
        dimseStatus: 0xc000,
        sopInstanceUid: String(rawValue(broken.meta, '00020003')),
        error: { code: 'STORE_FAILED', retryable: false, message: expect.stringContaining('0xC000 Error: cannot understand') },
      })
    })
  }, 60_000)

  it.each(['dimse', 'dcmtk'] as const)('0xA700 out of resources is retried with backoff until the PACS recovers (%s)', async (transport) => {
    await withReceiver([], async (scp, outDir) => {
      // storescp answers 0xA700 while it cannot write its output folder.
      await rm(outDir, { recursive: true })
      const recovered = sleep(700).then(() => mkdir(outDir))
      const outcome = await runJob(scp, mr.slice(0, 10), { transport, retry: { maxAttempts: 8, initialDelayMs: 200, maxDelayMs: 400 } })
      await recovered
      expect(outcome).not.toBeInstanceOf(PacsflowError)
      const receipt = outcome as StoreReceipt
      expect(receipt).toMatchObject({ stored: 10, failed: 0 })
      expect(receipt.rounds).toBeGreaterThan(1)
      expect(readdirSync(outDir)).toHaveLength(10)
    })
  }, 60_000)

  it('0xA700 that persists ends in a retryable STORE_OUT_OF_RESOURCES once the attempts are spent', async () => {
    await withReceiver([], async (scp, outDir) => {
      await rm(outDir, { recursive: true })
      const outcome = await runJob(scp, mr.slice(0, 3), { retry: { maxAttempts: 2, initialDelayMs: 50 } })
      expect(outcome).toMatchObject({ code: 'STORE_OUT_OF_RESOURCES', retryable: true })
      const receipt = receiptOf(outcome)
      expect(receipt.rounds).toBe(2)
      expect(receipt.instances.every((instance) => instance.dimseStatus === undefined && instance.error?.code === 'STORE_OUT_OF_RESOURCES')).toBe(true)
    })
  }, 60_000)

  it('falls back to Implicit VR Little Endian when the PACS accepts nothing else', async () => {
    await withReceiver(['+xi'], async (scp, outDir) => {
      const receipt = (await runJob(scp, mr.slice(0, 5), {})) as StoreReceipt
      expect(receipt).toMatchObject({ stored: 5, failed: 0 })
      expect(receipt.instances.every((instance) => instance.transferSyntaxUid === '1.2.840.10008.1.2')).toBe(true)
      for (const path of mr.slice(0, 5)) {
        const original = await readDicomHeader(path)
        const received = await readDicomHeader(join(outDir, `MR.${original.sopInstanceUid}`))
        expect(received.transferSyntaxUid).toBe('1.2.840.10008.1.2')
        expect(received).toMatchObject({ patientId: original.patientId, seriesInstanceUid: original.seriesInstanceUid, rows: original.rows })
        expect(await readFramePixels(received, 0)).toEqual(await readFramePixels(original, 0))
      }
    })
  }, 60_000)

  it('a PACS that does not answer in time fails the request with STORE_TIMEOUT', async () => {
    await withReceiver(['--sleep-during', '3'], async (scp) => {
      const started = Date.now()
      const outcome = await runJob(scp, mr.slice(0, 1), { timeoutMs: 800 })
      expect(outcome).toMatchObject({ code: 'STORE_TIMEOUT', retryable: true })
      expect(Date.now() - started).toBeLessThan(2900)
    })
  }, 60_000)

  it.each(['dimse', 'dcmtk'] as const)('a rejected association is retried, then reported as STORE_ASSOCIATION_REJECTED (%s)', async (transport) => {
    await withReceiver(['--refuse'], async (scp) => {
      const refusals = (): number => scp.log().match(/Refusing Association/g)?.length ?? 0
      // startStorescp's readiness probe was refused already.
      const before = refusals()
      const outcome = await runJob(scp, mr.slice(0, 2), { transport, retry: { maxAttempts: 2, initialDelayMs: 50 } })
      expect(outcome).toMatchObject({ code: 'STORE_ASSOCIATION_REJECTED', retryable: true })
      expect(receiptOf(outcome).rounds).toBe(2)
      expect(refusals() - before).toBe(2)
    })
  }, 60_000)

  it('nothing listening: STORE_CONNECTION_FAILED, and stage.run leaves an empty outbox', async () => {
    const { freePort } = await import('@pacsflow/testkit')
    const port = await freePort()
    const stage = storescu({ host: '127.0.0.1', port, calledAet: 'NOBODY', retry: { maxAttempts: 2, initialDelayMs: 20 } })
    const workDir = tempDir('storescu-refused')
    try {
      const error = await stage.run({ files: mr.slice(0, 2) }, stageContext(workDir)).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'STORE_CONNECTION_FAILED', retryable: true, message: expect.stringContaining('ECONNREFUSED') })
      const journal = readdirSync(workDir).filter((name) => name.startsWith('outbox-'))
      expect(journal).toHaveLength(1)
    } finally {
      removeDir(workDir)
    }
  }, 30_000)
})
