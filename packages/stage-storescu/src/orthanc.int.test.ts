// Sends real series to a real Orthanc through the runner: every instance there exactly once, datasets identical.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRunner, fileJobStore, pipeline } from '@pacsflow/core'
import { groupStudies, indexDicom, type DicomSeries } from '@pacsflow/imaging'
import { haveTools, startOrthanc, testDataDir, type OrthancServer } from '@pacsflow/testkit'
import { Outbox, outboxFileName } from './outbox.js'
import { storescu } from './storescu.js'
import { copySeries, datasetBytes, removeDir, stageContext, tempDir } from './test-support/fixtures.js'
import type { StorescuOptions, StoreReceipt } from './types.js'

const dataDir = testDataDir()
const ready = haveTools('Orthanc', 'storescu') && dataDir !== undefined

interface OrthancInstance {
  readonly ID: string
  readonly MainDicomTags: { readonly SOPInstanceUID: string }
}

describe.skipIf(!ready)('storescu to Orthanc', () => {
  let orthanc: OrthancServer
  let scratch: string
  let series: DicomSeries

  beforeAll(async () => {
    scratch = tempDir('storescu-orthanc')
    copySeries(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'in'))
    const { instances } = await indexDicom(join(scratch, 'in'))
    series = groupStudies(instances)[0]!.series[0]!
    // Orthanc answers C-FIND only from AEs it knows (DicomModalities).
    orthanc = await startOrthanc({ modalities: { pacsflow: ['PACSFLOW', '127.0.0.1', 104] } })
  }, 60_000)

  afterAll(async () => {
    await orthanc?.stop()
    removeDir(scratch)
  })

  async function clearOrthanc(): Promise<void> {
    for (const id of await orthanc.rest<string[]>('/patients')) {
      await fetch(`http://127.0.0.1:${orthanc.httpPort}/patients/${id}`, { method: 'DELETE' })
    }
  }

  async function send(jobs: string, options: Partial<StorescuOptions>, jobId?: string): Promise<StoreReceipt> {
    const stage = storescu({ host: orthanc.host, port: orthanc.dicomPort, calledAet: orthanc.aet, ...options })
    const runner = createRunner({ pipeline: pipeline(stage), store: fileJobStore(join(scratch, jobs)), retry: { maxAttempts: 1 } })
    return runner.run(series, jobId === undefined ? {} : { jobId })
  }

  /** Every instance of the series on Orthanc once, each data set byte for byte the file's. */
  async function expectSeriesOnOrthanc(): Promise<void> {
    const stored = await orthanc.rest<OrthancInstance[]>('/instances?expand')
    expect(stored).toHaveLength(series.instances.length)
    const byUid = new Map(stored.map((instance) => [instance.MainDicomTags.SOPInstanceUID, instance.ID]))
    expect(byUid.size).toBe(series.instances.length)
    for (const instance of series.instances) {
      const id = byUid.get(instance.sopInstanceUid)
      expect(id, instance.path).toBeDefined()
      const response = await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances/${id}/file`)
      const received = new Uint8Array(await response.arrayBuffer())
      expect(datasetBytes(received).equals(datasetBytes(readFileSync(instance.path))), instance.path).toBe(true)
    }
  }

  it('stores a series with dcmjs-dimse: every instance once, identical datasets, verified by C-FIND', async () => {
    await clearOrthanc()
    const receipt = await send('jobs-dimse', { verify: true })
    expect(receipt).toMatchObject({ total: 72, stored: 72, failed: 0, alreadyStored: 0, rounds: 1, transport: 'dimse' })
    expect(receipt.verified).toEqual({ confirmed: 72, missing: [] })
    expect(receipt.instances.every((instance) => instance.transferSyntaxUid === '1.2.840.10008.1.2.1' && instance.dimseStatus === 0)).toBe(true)
    await expectSeriesOnOrthanc()
  }, 60_000)

  it('verifies a study of three series with one C-FIND per series on one association', async () => {
    await clearOrthanc()
    const dir = join(scratch, 'fieldmap')
    copySeries(dataDir!, 'dcm_qa_xa30i/gre_field_mapping_9001_9002_10001', dir)
    const study = groupStudies((await indexDicom(dir)).instances)[0]!
    expect(study.series).toHaveLength(3)
    const workDir = tempDir('storescu-study')
    try {
      const stage = storescu({ host: orthanc.host, port: orthanc.dicomPort, calledAet: orthanc.aet, verify: true })
      const receipt = await stage.run(study, stageContext(workDir))
      expect(receipt).toMatchObject({ total: 99, stored: 99, failed: 0, verified: { confirmed: 99, missing: [] } })
    } finally {
      removeDir(workDir)
    }
  }, 60_000)

  it('stores the same series through DCMTK storescu with the same receipt', async () => {
    await clearOrthanc()
    const receipt = await send('jobs-dcmtk', { transport: 'dcmtk', verify: true })
    expect(receipt).toMatchObject({ total: 72, stored: 72, failed: 0, transport: 'dcmtk' })
    expect(receipt.verified?.missing).toEqual([])
    await expectSeriesOnOrthanc()
  }, 60_000)

  it('shares the files among several associations', async () => {
    await clearOrthanc()
    const receipt = await send('jobs-multi', { maxAssociations: 4 })
    expect(receipt).toMatchObject({ stored: 72, failed: 0 })
    await expectSeriesOnOrthanc()
  }, 60_000)

  it('a second run with the same workDir sends nothing: the outbox holds every acknowledgement', async () => {
    await clearOrthanc()
    const workDir = tempDir('storescu-twice')
    const stage = storescu({ host: orthanc.host, port: orthanc.dicomPort, calledAet: orthanc.aet })
    try {
      expect(await stage.run(series, stageContext(workDir))).toMatchObject({ stored: 72, alreadyStored: 0 })
      // As after a crash between the send and the runner's checkpoint: the stage runs again.
      await clearOrthanc()
      expect(await stage.run(series, stageContext(workDir))).toMatchObject({ stored: 0, alreadyStored: 72, failed: 0 })
      expect(await orthanc.rest<string[]>('/instances')).toHaveLength(0)
    } finally {
      removeDir(workDir)
    }
  }, 60_000)

  it('asks the PACS about a send a crash left unknown, and does not send it again when it is there', async () => {
    await clearOrthanc()
    const first = series.instances[0]!
    const dcmtk = storescu({ host: orthanc.host, port: orthanc.dicomPort, calledAet: orthanc.aet, transport: 'dcmtk', name: 'seed' })
    const seedDir = tempDir('storescu-seed')
    await dcmtk.run({ files: [first.path] }, stageContext(seedDir))
    removeDir(seedDir)
    // An intent without its acknowledgement: what a SIGKILL between the send and the response leaves.
    const workDir = tempDir('storescu-uncertain')
    const outbox = await Outbox.open(workDir, outboxFileName(orthanc.host, orthanc.dicomPort, orthanc.aet))
    outbox.recordIntent(first.sopInstanceUid)
    await outbox.close()
    const stage = storescu({ host: orthanc.host, port: orthanc.dicomPort, calledAet: orthanc.aet })
    const receipt = await stage.run(series, stageContext(workDir))
    const journal = readFileSync(join(workDir, outboxFileName(orthanc.host, orthanc.dicomPort, orthanc.aet)), 'utf8')
    removeDir(workDir)
    expect(receipt).toMatchObject({ stored: 71, alreadyStored: 1, failed: 0 })
    expect(receipt.instances[0]).toMatchObject({ sopInstanceUid: first.sopInstanceUid, status: 'already-stored', note: expect.stringContaining('C-FIND') })
    const intents = journal.split('\n').filter((line) => line.includes('"intent"') && line.includes(first.sopInstanceUid))
    expect(intents).toHaveLength(1)
    await expectSeriesOnOrthanc()
  }, 60_000)
})
