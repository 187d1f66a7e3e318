// Crash safety, for real: SIGKILL a pipeline process at random points 20 times, restart it,
// and check that every delivery ends processed exactly once, acknowledged, with no job lost.
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TEMP_SUFFIX } from './atomic-write.js'
import type { RunnerEvent } from './events.js'
import { fileJobStore } from './file-job-store.js'
import { useTempDirs } from './test-support/temp-dir.js'

const tempDir = useTempDirs()
const childScript = fileURLToPath(new URL('./test-support/crash-child.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

const DELIVERIES = 40
const KILLS = 20

interface KillPlan {
  /** Kill on the k-th event of this type... */
  readonly on: 'stage:end' | 'stage:start'
  readonly k: number
  /** ...after this many ms (0: at once, between stages; > 0: inside the next stage or its checkpoint). */
  readonly delayMs: number
}

interface RunResult {
  readonly killed: boolean
  readonly events: RunnerEvent[]
  readonly code: number | null
}

/** Starts the child; kills it with SIGKILL per `plan`, or lets it finish when `plan` is undefined. */
function runChild(dir: string, plan: KillPlan | undefined): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript, dir], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const events: RunnerEvent[] = []
    let seen = 0
    let killed = false
    let stderr = ''
    let pending = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const event = JSON.parse(line) as RunnerEvent
        events.push(event)
        if (plan !== undefined && !killed && event.type === plan.on && ++seen === plan.k) {
          killed = true
          if (plan.delayMs === 0) child.kill('SIGKILL')
          else setTimeout(() => child.kill('SIGKILL'), plan.delayMs)
        }
      }
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!killed && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`))
      else resolve({ killed, events, code })
    })
  })
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('crash safety', () => {
  it(`survives ${KILLS} SIGKILLs between and inside stages: every delivery done once and acked`, async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'inbox'))
    for (let n = 0; n < DELIVERIES; n++) {
      await writeFile(join(dir, 'inbox', `study-${String(n).padStart(3, '0')}.json`), JSON.stringify({ n, trace: [] }))
    }
    const seed = Number(process.env.PACSFLOW_CRASH_SEED ?? 20261122)
    const rand = random(seed)
    const all: RunnerEvent[] = []
    let kills = 0
    for (let run = 0; run < KILLS; run++) {
      const between = run % 2 === 0
      const plan: KillPlan = between
        ? { on: 'stage:end', k: 1 + Math.floor(rand() * 6), delayMs: 0 }
        : { on: 'stage:start', k: 1 + Math.floor(rand() * 6), delayMs: 1 + Math.floor(rand() * 8) }
      const result = await runChild(dir, plan)
      all.push(...result.events)
      if (result.killed) kills++
    }
    const final = await runChild(dir, undefined)
    all.push(...final.events)
    expect(final.code).toBe(0)
    // The work must outlast the kills, or the test would prove nothing (replay with PACSFLOW_CRASH_SEED).
    expect(kills, `seed ${seed}`).toBe(KILLS)

    const names = (await readdir(join(dir, 'acked'))).sort()
    expect(await readdir(join(dir, 'inbox'))).toEqual([])
    expect(await readdir(join(dir, 'rejected'))).toEqual([])
    expect(names).toHaveLength(DELIVERIES)

    const jobs = await fileJobStore(join(dir, 'jobs')).list()
    expect(jobs).toHaveLength(DELIVERIES)
    expect(jobs.filter((job) => job.status !== 'done')).toEqual([])
    expect(jobs.map((job) => job.deliveryId).sort()).toEqual(names)

    // A write killed half-way leaves only a hidden temporary file, never a partial output.
    const files = await readdir(join(dir, 'out'))
    const outputs = files.filter((name) => !name.endsWith(TEMP_SUFFIX))
    expect(outputs).toHaveLength(DELIVERIES)
    expect(files.filter((name) => name.endsWith(TEMP_SUFFIX)).every((name) => name.startsWith('.'))).toBe(true)
    for (const job of jobs) {
      const item = JSON.parse(await readFile(join(dir, 'out', `${job.id}.json`), 'utf8')) as { n: number; trace: number[] }
      expect(item.trace).toEqual([0, 1, 2])
      expect(job.output).toEqual(item)
      expect(job.input).toEqual({ n: item.n, trace: [] })
    }

    // Resumed jobs continue at the first unfinished stage: per job, stage starts never go back.
    const starts = new Map<string, number[]>()
    for (const line of (await readFile(join(dir, 'starts.log'), 'utf8')).trim().split('\n')) {
      const [jobId, index] = line.split(' ')
      starts.set(jobId!, [...(starts.get(jobId!) ?? []), Number(index)])
    }
    for (const [jobId, sequence] of starts) {
      expect(sequence, jobId).toEqual([...sequence].sort((a, b) => a - b))
      expect(new Set(sequence), jobId).toEqual(new Set([0, 1, 2, 3]))
    }
    const done = new Map<string, number>()
    for (const event of all) if (event.type === 'job:done') done.set(event.jobId, (done.get(event.jobId) ?? 0) + 1)
    expect([...done.values()].every((count) => count === 1)).toBe(true)
    // The kills really interrupted work: some stages ran twice and some jobs were resumed.
    expect([...starts.values()].some((sequence) => sequence.length > 4)).toBe(true)
    expect(all.some((event) => event.type === 'job:resumed')).toBe(true)
  }, 180_000)
})
