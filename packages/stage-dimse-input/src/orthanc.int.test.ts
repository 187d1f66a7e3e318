// Query/retrieve against a real Orthanc: C-FIND finds, C-MOVE (and C-GET) deliver into the spool, each study yielded once complete.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRunner, defineStage, memoryJobStore, pipeline } from '@pacsflow/core'
import { readDicomHeader, type DicomStudy } from '@pacsflow/imaging'
import { copyTestSeries, freePort, haveTools, startOrthanc, testDataDir, type OrthancServer } from '@pacsflow/testkit'
import { findSeries, findStudies, queryRetrieve, type QueryRetrieveOptions, type RetrieveReport } from './index.js'
import { datasetBytes, metaFields, removeDir, run, tempDir } from './test-support/dicom-files.js'

const dataDir = testDataDir()
const ready = haveTools('Orthanc', 'dcmodify') && dataDir !== undefined

interface Seen {
  readonly study: string
  readonly instances: number
  /** SHA-256 of each instance's data set, by SOP Instance UID (read in the stage: the snapshot moves on ack). */
  readonly datasets: ReadonlyMap<string, string>
}

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/** Runs a query/retrieve source to its end through a runner whose one stage records each study. */
async function retrieveWith(options: QueryRetrieveOptions): Promise<{ seen: Seen[]; reports: RetrieveReport[]; events: string[] }> {
  const seen: Seen[] = []
  const reports: RetrieveReport[] = []
  // What the runner saw, for the assertion messages: a study missing from `seen` says why here.
  const events: string[] = []
  const record = defineStage({
    name: 'record',
    run: async (study: DicomStudy) => {
      const instances = study.series.flatMap((series) => series.instances)
      const datasets = new Map(instances.map((instance) => [instance.sopInstanceUid, digest(datasetBytes(instance.path))]))
      seen.push({ study: study.studyInstanceUid, instances: instances.length, datasets })
      return { study: study.studyInstanceUid }
    },
  })
  const source = queryRetrieve({ ...options, onRetrieve: (report) => reports.push(report) })
  const runner = createRunner({ source, pipeline: pipeline(record), store: memoryJobStore() })
  runner.on('job:queued', (event) => events.push(`queued ${event.deliveryId ?? event.jobId}`))
  runner.on('job:failed', (event) => events.push(`failed ${event.jobId}: ${event.error.code}: ${event.error.message}`))
  runner.on('source:error', (event) => events.push(`source error: ${event.error.message}`))
  await runner.start()
  await runner.idle()
  await runner.stop()
  return { seen, reports, events }
}

describe.skipIf(!ready)('query/retrieve from Orthanc', () => {
  let orthanc: OrthancServer
  let scratch: string
  let fieldMap: string[]
  let enhanced: string[]
  const studyUids = new Map<string, string>()
  const studyUid = (path: string): string => studyUids.get(path)!

  beforeAll(async () => {
    scratch = tempDir('orthanc')
    fieldMap = copyTestSeries('dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'fieldmap'), dataDir)
    enhanced = copyTestSeries('dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', join(scratch, 'enhanced'), dataDir)
    await run('dcmodify', ['-nb', '-ma', '(0008,0050)=ACC-FMAP-1', ...fieldMap])
    await run('dcmodify', ['-nb', '-ma', '(0008,0050)=ACC-ENH-2', ...enhanced])
    for (const file of [fieldMap[0]!, enhanced[0]!]) studyUids.set(file, (await readDicomHeader(file)).studyInstanceUid)
    // Orthanc answers C-FIND and C-GET only from AEs it knows, and C-MOVEs only to them (the port is set per test: see receiverAt).
    orthanc = await startOrthanc({ modalities: { pacsflow: ['PACSFLOW', '127.0.0.1', await freePort()] } })
    for (const file of [...fieldMap, ...enhanced]) {
      const response = await fetch(`http://127.0.0.1:${orthanc.httpPort}/instances`, { method: 'POST', body: readFileSync(file) })
      expect(response.ok).toBe(true)
    }
  }, 60_000)

  afterAll(async () => {
    await orthanc?.stop()
    removeDir(scratch)
  })

  /**
   * A free port for our receiver, registered in Orthanc as PACSFLOW's just before the source
   * binds it: tests run in parallel, and a port found free long before may be taken meanwhile.
   */
  async function receiverAt(aet = 'PACSFLOW'): Promise<number> {
    const port = await freePort()
    const response = await fetch(`http://127.0.0.1:${orthanc.httpPort}/modalities/${aet.toLowerCase()}`, { method: 'PUT', body: JSON.stringify({ AET: aet, Host: '127.0.0.1', Port: port }) })
    expect(response.ok).toBe(true)
    return port
  }

  const query = (): { pacs: { host: string; port: number; aet: string }; aet: string } => ({ pacs: { host: '127.0.0.1', port: orthanc.dicomPort, aet: orthanc.aet }, aet: 'PACSFLOW' })

  it('C-FIND finds a study by accession number and by patient ID, and its series', async () => {
    const byAccession = await findStudies({ accessionNumber: 'ACC-FMAP-1' }, query())
    expect(byAccession).toHaveLength(1)
    expect(byAccession[0]).toMatchObject({ accessionNumber: 'ACC-FMAP-1', patientId: 'crlab', numberOfStudyRelatedInstances: 72 })
    expect(byAccession[0]!.studyInstanceUid).toBe(studyUid(fieldMap[0]!))
    const byPatient = await findStudies({ patientId: 'crlab' }, query())
    expect(byPatient.map((study) => study.studyInstanceUid)).toEqual([byAccession[0]!.studyInstanceUid])
    expect(await findStudies({ accessionNumber: 'NO-SUCH-ACC' }, query())).toEqual([])
    const series = await findSeries(byAccession[0]!.studyInstanceUid, query())
    expect(series).toHaveLength(1)
    expect(series[0]).toMatchObject({ modality: 'MR', numberOfSeriesRelatedInstances: 72 })
  })

  it('C-MOVE brings each accession into the spool and yields each study once, complete; an unknown accession is reported', async () => {
    const spoolDir = join(scratch, 'spool-move')
    const { seen, reports, events } = await retrieveWith({
      ...query(),
      accessionNumbers: ['ACC-FMAP-1', 'NO-SUCH-ACC', 'ACC-ENH-2'],
      receiver: { port: await receiverAt() },
      spool: spoolDir,
      quietPeriodMs: 500,
    })
    expect(seen.map((s) => [s.study, s.instances]).sort(), JSON.stringify({ events, reports })).toEqual(
      [
        [studyUid(fieldMap[0]!), 72],
        [studyUid(enhanced[0]!), 4],
      ].sort(),
    )
    expect(reports.map((r) => [r.accessionNumber, r.error?.code, r.studies.map((s) => s.counts?.completed)])).toEqual([
      ['ACC-FMAP-1', undefined, [72]],
      ['NO-SUCH-ACC', 'QR_NOT_FOUND', []],
      ['ACC-ENH-2', undefined, [4]],
    ])
    // Received as Orthanc holds them: the data sets of the field map byte for byte as uploaded.
    const received = seen.find((s) => s.study === studyUid(fieldMap[0]!))!.datasets
    for (const file of fieldMap) expect(received.get(metaFields(file)['00020003']!), file).toBe(digest(datasetBytes(file)))
    // Acknowledged by the runner: every generation of both studies is in the spool's done/. A stall
    // longer than the quiet period (seen on a loaded CI machine) makes an early generation, which
    // the board holds and the complete one supersedes; both are acknowledged.
    const done = readdirSync(join(spoolDir, 'done'))
    expect(done.every((name) => /\.g\d+$/.test(name)), done.join()).toBe(true)
    expect([...new Set(done.map((name) => name.replace(/\.g\d+$/, '')))].sort()).toEqual([studyUid(fieldMap[0]!), studyUid(enhanced[0]!)].sort())
  }, 60_000)

  it('C-GET brings a study back on the query association', async () => {
    const { seen, reports } = await retrieveWith({ ...query(), accessionNumbers: ['ACC-ENH-2'], method: 'get', spool: join(scratch, 'spool-get'), quietPeriodMs: 500 })
    expect(seen.map((s) => [s.study, s.instances])).toEqual([[studyUid(enhanced[0]!), 4]])
    expect(reports[0]?.studies[0]?.counts).toMatchObject({ completed: 4, failed: 0 })
  }, 60_000)

  it('a C-MOVE to a destination the PACS does not know is a coded failure, and nothing is yielded', async () => {
    const { seen, reports } = await retrieveWith({
      ...query(),
      accessionNumbers: ['ACC-ENH-2'],
      receiver: { port: await freePort(), aet: 'STRANGER' },
      spool: join(scratch, 'spool-unknown'),
      quietPeriodMs: 500,
      attempts: 1,
    })
    expect(seen).toEqual([])
    // Orthanc 1.10 answers 0xC000 (unable to process); the standard's 0xA801 (destination unknown) gets a hint.
    const error = reports[0]?.studies[0]?.error
    expect(error).toMatchObject({ code: 'QR_RETRIEVE_FAILED' })
    expect([0xa801, 0xc000]).toContain(error?.details?.status)
  }, 60_000)
})
