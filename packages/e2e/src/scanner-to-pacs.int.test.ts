// The whole pipeline against real peers on loopback: DCMTK storescu plays the scanner, pushing the
// testkit exam into pacsflow's receiver (examples/scanner-to-pacs.ts, run as its own process);
// native QSM and dicomise run; the storescu stage sends the result to Orthanc, the hospital PACS.
// Then the same with the pipeline process SIGKILLed at random moments and restarted.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, haveTools, makeExam, startOrthanc, type ExamManifest, type OrthancServer } from '@pacsflow/testkit'

const ready = haveTools('Orthanc', 'storescu')
const repo = resolve(import.meta.dirname, '../../..')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-e2e-'))
let exam: ExamManifest

beforeAll(async () => {
  if (ready) exam = await makeExam(join(scratch, 'exam'), { preset: 'small', seed: 3 })
}, 60_000)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface OrthancSeries {
  readonly ID: string
  readonly Instances: readonly string[]
  readonly MainDicomTags: { readonly SeriesInstanceUID: string; readonly SeriesDescription?: string }
}

interface Tags {
  readonly SOPInstanceUID: string
  readonly FrameOfReferenceUID: string
  readonly ImagePositionPatient: string
  readonly ImageOrientationPatient: string
  readonly StudyInstanceUID: string
}

/** The pipeline service as a separate process, as a site runs it (configured from the environment). */
function startPipeline(state: string, port: number, orthanc: OrthancServer): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(repo, 'examples/scanner-to-pacs.ts')], {
    cwd: repo,
    env: {
      ...process.env,
      PACSFLOW_AET: 'PACSFLOW',
      PACSFLOW_PORT: String(port),
      PACSFLOW_STATE: state,
      PACSFLOW_QUIET_SECONDS: '2',
      PACSFLOW_ALLOWED_AETS: 'MR_SCANNER',
      PACS_HOST: orthanc.host,
      PACS_PORT: String(orthanc.dicomPort),
      PACS_AET: orthanc.aet,
      QSM_ENGINE: 'native',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr!.setEncoding('utf8')
  let log = ''
  child.stderr!.on('data', (text: string) => {
    log = (log + text).slice(-20_000)
  })
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`pipeline exited ${code}:\n${log}\n`)
  })
  return child
}

/** Waits until the receiver answers C-ECHO (bounded). */
async function untilListening(port: number, child: ChildProcess): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 30_000; ) {
    if (child.exitCode !== null) throw new Error(`the pipeline exited with ${child.exitCode}`)
    try {
      await promisify(execFile)('echoscu', ['-aet', 'MR_SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(port)], { timeout: 5000 })
      return
    } catch {
      await new Promise((done) => setTimeout(done, 200))
    }
  }
  throw new Error('the receiver did not answer C-ECHO within 30 s')
}

/** The scanner sends the exam (every series) with DCMTK; false when the association broke (the receiver was killed). */
async function pushExam(port: number): Promise<boolean> {
  try {
    await promisify(execFile)('storescu', ['-aet', 'MR_SCANNER', '-aec', 'PACSFLOW', '+sd', '+r', '127.0.0.1', String(port), exam.dicomDir], {
      env: { ...process.env, TCP_NODELAY: '1' },
      timeout: 60_000,
    })
    return true
  } catch {
    return false
  }
}

/** The QSM series Orthanc holds in the exam's study once it has every instance (bounded wait), or undefined. */
async function qsmSeries(orthanc: OrthancServer, timeoutMs: number): Promise<OrthancSeries | undefined> {
  const expected = exam.series.t1!.files
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    const [studyId] = await orthanc.rest<string[]>('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: exam.studyInstanceUid } })
    if (studyId !== undefined) {
      const series = await orthanc.rest<OrthancSeries[]>(`/studies/${studyId}/series`)
      const qsm = series.find((s) => s.MainDicomTags.SeriesDescription?.startsWith('QSM') === true)
      if (qsm !== undefined && qsm.Instances.length >= expected) return qsm
    }
    await new Promise((done) => setTimeout(done, 500))
  }
  return undefined
}

async function tagsOf(orthanc: OrthancServer, series: OrthancSeries): Promise<Tags[]> {
  return Promise.all(series.Instances.map((id) => orthanc.rest<Tags>(`/instances/${id}/simplified-tags`)))
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((done) => {
    child.once('exit', () => done())
    child.kill('SIGTERM')
  })
}

/** The end state a run leaves in Orthanc: the QSM series and its instances' UIDs. */
async function endState(orthanc: OrthancServer): Promise<{ series: string; instances: string[]; tags: Tags[] }> {
  const series = await qsmSeries(orthanc, 1000)
  expect(series, 'Orthanc holds the QSM series').toBeDefined()
  const tags = await tagsOf(orthanc, series!)
  return { series: series!.MainDicomTags.SeriesInstanceUID, instances: tags.map((t) => t.SOPInstanceUID).sort(), tags }
}

describe.skipIf(!ready)('scanner -> pacsflow (native QSM) -> Orthanc', () => {
  let reference: Awaited<ReturnType<typeof endState>>

  it('files the QSM series in the exam study, on the T1 grid and frame of reference, every instance once', async () => {
    const orthanc = await startOrthanc()
    const port = await freePort()
    const child = startPipeline(join(scratch, 'state-plain'), port, orthanc)
    try {
      await untilListening(port, child)
      expect(await pushExam(port)).toBe(true)
      expect(await qsmSeries(orthanc, 120_000), 'the QSM series reached Orthanc').toBeDefined()
      reference = await endState(orthanc)
      const t1 = exam.series.t1!
      expect(reference.instances).toHaveLength(t1.files)
      expect(new Set(reference.instances).size).toBe(t1.files)
      for (const tags of reference.tags) {
        expect(tags.StudyInstanceUID).toBe(exam.studyInstanceUid)
        expect(tags.FrameOfReferenceUID).toBe(exam.frameOfReferenceUid)
      }
      // The T1's geometry, slice for slice: same orientation, the same set of positions.
      const t1Tags = await t1Geometry()
      expect(new Set(reference.tags.map((t) => normaliseDs(t.ImageOrientationPatient)))).toEqual(new Set([t1Tags.orientation]))
      expect(reference.tags.map((t) => normaliseDs(t.ImagePositionPatient)).sort()).toEqual(t1Tags.positions)
    } finally {
      await stop(child)
      await orthanc.stop()
    }
  }, 240_000)

  it('ends in the same state when the pipeline process is SIGKILLed at random moments and restarted (5 times)', async () => {
    expect(reference, 'the plain run passed first').toBeDefined()
    const orthanc = await startOrthanc()
    const port = await freePort()
    const state = join(scratch, 'state-crash')
    // A seeded sequence of kill delays, printed so a failure can be replayed.
    let seed = Number(process.env.PACSFLOW_CRASH_SEED ?? Date.now() % 100_000)
    process.stderr.write(`e2e crash test: PACSFLOW_CRASH_SEED=${seed}\n`)
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    try {
      for (let round = 0; round < 5; round++) {
        const child = startPipeline(state, port, orthanc)
        await untilListening(port, child)
        // The scanner sends the exam once, whole, before the first kill: a kill during the
        // receive (the receiver's own crash test covers that) could leave the scanner re-sending
        // after the quiet period, which hands the study on a second time by design ('new-job').
        if (round === 0) expect(await pushExam(port)).toBe(true)
        // Then kills anywhere in the quiet period, the QSM, the encoding and the send.
        await new Promise((done) => setTimeout(done, 300 + random() * 12_000))
        child.kill('SIGKILL')
        await new Promise((done) => child.once('exit', done))
      }
      const child = startPipeline(state, port, orthanc)
      try {
        await untilListening(port, child)
        expect(await qsmSeries(orthanc, 120_000), 'the QSM series reached Orthanc after the restarts').toBeDefined()
        // Let anything a late duplicate job would send arrive before comparing.
        await new Promise((done) => setTimeout(done, 4000))
        const after = await endState(orthanc)
        expect(after.series).toBe(reference.series)
        expect(after.instances).toEqual(reference.instances)
        const [studyId] = await orthanc.rest<string[]>('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: exam.studyInstanceUid } })
        const all = await orthanc.rest<OrthancSeries[]>(`/studies/${studyId}/series`)
        expect(all.filter((s) => s.MainDicomTags.SeriesDescription?.startsWith('QSM') === true), 'one QSM series, not two').toHaveLength(1)
      } finally {
        await stop(child)
      }
    } finally {
      await orthanc.stop()
    }
  }, 420_000)
})

/** The T1's orientation and sorted positions, read from the exam files with DCMTK's dcmdump. */
async function t1Geometry(): Promise<{ orientation: string; positions: string[] }> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `dcmdump +P 0020,0032 +P 0020,0037 "${exam.series.t1!.dir}"/*`], { maxBuffer: 16 << 20 })
  const values = [...stdout.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!)
  // Per file, in tag order: ImagePositionPatient (0020,0032), then ImageOrientationPatient (0020,0037).
  const positions = values.filter((_, i) => i % 2 === 0).map(normaliseDs).sort()
  return { orientation: normaliseDs(values[1]!), positions }
}

function normaliseDs(value: string): string {
  return value
    .split('\\')
    .map((n) => Number(n).toFixed(3))
    .join('\\')
}
