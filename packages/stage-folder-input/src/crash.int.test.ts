// Crash safety on real data: exams dropped while a folderInput + runner process is SIGKILLed at random moments and
// restarted; in the end every instance is processed, byte for byte, every job done once, and nothing is left behind.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fileJobStore, type RunnerEvent } from '@pacsflow/core'
import { indexDicom, isValidUid } from '@pacsflow/imaging'
import { copyTestSeries, testDataDir } from '@pacsflow/testkit'
import { useTempDirs, waitFor } from './test-support/helpers.js'

const tempDir = useTempDirs()
const dataDir = testDataDir()
const childScript = fileURLToPath(new URL('./test-support/crash-child.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

const EXAMS = [
  ['dcm_qa_fmap/Siemens_2_gre_field_magph', 'fmap/magnitude'],
  ['dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping', 'philips'],
  ['dcm_qa_xa30i/5001_anat-T1w_acq-tfl', 'xa30/t1'],
  ['dcm_qa_fmap/Siemens_3_gre_field_magph', 'fmap/phase'],
  ['dcm_qa_xa30i/gre_field_mapping_9001_9002_10001', 'xa30/gre'],
  ['dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', 'enhanced'],
] as const
const KILLS = 5

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

interface Child {
  readonly process: ChildProcess
  readonly events: RunnerEvent[]
  readonly started: Promise<void>
  readonly firstStageStart: Promise<void>
  readonly exited: Promise<number | null>
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript, ...args], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] })
  const events: RunnerEvent[] = []
  let pending = ''
  let onStarted!: () => void
  const started = new Promise<void>((resolve) => (onStarted = resolve))
  let onStageStart!: () => void
  const firstStageStart = new Promise<void>((resolve) => (onStageStart = resolve))
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      const event = JSON.parse(line) as RunnerEvent | { type: 'started' }
      if (event.type === 'started') onStarted()
      else events.push(event)
      if (event.type === 'stage:start') onStageStart()
    }
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  void exited.then((code) => {
    if (code !== 0 && code !== null) console.error(`crash child exited ${code}: ${stderr}`)
  })
  return { process: child, events, started, firstStageStart, exited }
}

describe.skipIf(dataDir === undefined)('folderInput crash safety (real data)', () => {
  it(`loses nothing across ${KILLS} SIGKILLs while exams are dropped, spooled and processed`, async () => {
    const root = await tempDir()
    const [staging, drop, spool, out, jobs] = ['staging', 'drop', 'spool', 'out', 'jobs'].map((name) => join(root, name)) as [string, string, string, string, string]
    await mkdir(drop)
    const expected = new Map<string, string>()
    for (const [folder, as] of EXAMS) copyTestSeries(folder, join(staging, as), dataDir)
    for (const instance of (await indexDicom(staging)).instances) {
      expected.set(join(instance.studyInstanceUid, `${instance.sopInstanceUid}.dcm`), sha(await readFile(instance.path)))
    }
    expect(expected.size).toBe(519)

    const seed = Number(process.env.PACSFLOW_CRASH_SEED ?? 4242)
    const rand = random(seed)
    const args = [drop, spool, out, jobs]
    const events: RunnerEvent[] = []
    let kills = 0
    let interrupted = 0
    for (let run = 0; run < KILLS; run++) {
      const child = startChild(args)
      await child.started
      const exam = EXAMS[run]
      if (exam !== undefined) await cp(join(staging, exam[1]), join(drop, exam[1]), { recursive: true })
      // Even runs die while files are being spooled; odd ones inside a job (or after 4 s if none starts).
      if (run % 2 === 0) await sleep(100 + rand() * 900)
      else await Promise.race([child.firstStageStart.then(() => sleep(rand() * 20)), sleep(4_000)])
      if (child.process.exitCode === null) {
        child.process.kill('SIGKILL')
        kills++
      }
      await child.exited
      events.push(...child.events)
      const trees = (await readdir(spool).catch(() => [] as string[])).filter((name) => isValidUid(name)).length
      const inJob = child.events.filter((e) => e.type === 'stage:start').length > child.events.filter((e) => e.type === 'stage:end').length
      if (inJob || trees + (await readdir(join(spool, 'jobs')).catch(() => [] as string[])).length > 0) interrupted++
    }
    const final = startChild(args)
    await final.started
    for (const [, as] of EXAMS.slice(KILLS)) await cp(join(staging, as), join(drop, as), { recursive: true })
    const outputs = async (): Promise<Map<string, string>> => {
      const found = new Map<string, string>()
      for (const study of await readdir(out).catch(() => [] as string[])) {
        for (const name of await readdir(join(out, study))) {
          if (name.endsWith('.dcm')) found.set(join(study, name), sha(await readFile(join(out, study, name))))
        }
      }
      return found
    }
    await waitFor(async () => (await outputs()).size === expected.size && (await fileJobStore(jobs).list()).every((job) => job.status === 'done') && (await readdir(join(spool, 'jobs'))).length === 0, 90_000)
    final.process.kill('SIGTERM')
    expect(await final.exited).toBe(0)
    events.push(...final.events)

    expect(kills, `seed ${seed}`).toBe(KILLS)
    // The kills landed while studies were being spooled or processed, or the test would prove little.
    expect(interrupted, `seed ${seed}`).toBeGreaterThanOrEqual(2)
    expect(await outputs()).toEqual(expected)
    const records = await fileJobStore(jobs).list()
    expect(records.filter((job) => job.status !== 'done')).toEqual([])
    // Each generation's job finished once, whatever the kills interrupted.
    const done = new Map<string, number>()
    for (const event of events) if (event.type === 'job:done') done.set(event.jobId, (done.get(event.jobId) ?? 0) + 1)
    expect([...done.values()].every((count) => count === 1)).toBe(true)
    expect(new Set(records.map((job) => job.deliveryId?.replace(/\.g\d+$/, ''))).size).toBe(4)
    // Nothing left behind: the drop folder emptied, no study tree, no snapshot, nothing in flight or quarantined.
    expect(await readdir(drop)).toEqual([])
    expect((await readdir(spool)).filter((name) => isValidUid(name))).toEqual([])
    for (const folder of ['incoming', 'jobs', 'quarantine', 'failed']) expect(await readdir(join(spool, folder)), folder).toEqual([])
  }, 180_000)
})
