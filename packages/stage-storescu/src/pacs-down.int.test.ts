// PACS down at the start: the send retries with backoff, Orthanc starts 5 s later, everything arrives once.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '@pacsflow/core'
import { groupStudies, indexDicom, type DicomSeries } from '@pacsflow/imaging'
import { freePort, haveTools, startOrthanc, testDataDir, type OrthancServer } from '@pacsflow/testkit'
import { storescu } from './storescu.js'
import { copySeries, removeDir, stageContext, tempDir } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = haveTools('Orthanc') && dataDir !== undefined

describe.skipIf(!ready)('storescu while the PACS is down', () => {
  let scratch: string
  let series: DicomSeries

  beforeAll(async () => {
    scratch = tempDir('storescu-down')
    copySeries(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'in'))
    series = groupStudies((await indexDicom(join(scratch, 'in'))).instances)[0]!.series[0]!
  })
  afterAll(() => removeDir(scratch))

  it('delivers everything, once, when Orthanc comes up 5 s after the send began', async () => {
    const [dicomPort, httpPort] = [await freePort(), await freePort()]
    const workDir = tempDir('storescu-down-work')
    const stage = storescu({ host: '127.0.0.1', port: dicomPort, calledAet: 'ORTHANC', verify: true })
    let orthanc: OrthancServer | undefined
    try {
      const started = Date.now()
      const sending = stage.run(series, stageContext(workDir))
      await sleep(5000)
      orthanc = await startOrthanc({ dicomPort, httpPort, modalities: { pacsflow: ['PACSFLOW', '127.0.0.1', 104] } })
      const receipt = await sending
      expect(Date.now() - started).toBeGreaterThan(5000)
      expect(receipt).toMatchObject({ total: 72, stored: 72, failed: 0, verified: { confirmed: 72, missing: [] } })
      expect(receipt.rounds).toBeGreaterThan(1)
      const stored = await orthanc.rest<{ MainDicomTags: { SOPInstanceUID: string } }[]>('/instances?expand')
      expect(stored).toHaveLength(72)
      expect(new Set(stored.map((instance) => instance.MainDicomTags.SOPInstanceUID))).toEqual(new Set(series.instances.map((instance) => instance.sopInstanceUid)))
      // Sent once: the outbox saw one send (intent) and one acknowledgement per instance.
      const journal = readdirSync(workDir).find((name) => name.startsWith('outbox-'))!
      const entries = readFileSync(join(workDir, journal), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { e: string; sop: string })
      for (const kind of ['intent', 'ack']) {
        const sops = entries.filter((entry) => entry.e === kind).map((entry) => entry.sop)
        expect(sops, kind).toHaveLength(72)
        expect(new Set(sops).size, kind).toBe(72)
      }
    } finally {
      await orthanc?.stop()
      removeDir(workDir)
    }
  }, 90_000)
})
