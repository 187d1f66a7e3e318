import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { PacsflowError } from './errors.js'
import type { RunnerEvent } from './events.js'
import { fileJobStore } from './file-job-store.js'
import type { JobRecord } from './job-store.js'
import { pipeline } from './pipeline.js'
import { createRunner, jobIdFor } from './runner.js'
import { defineSource, defineStage, type Delivery } from './stage.js'
import { useTempDirs } from './test-support/temp-dir.js'

const tempDir = useTempDirs()

/** A source over a fixed list that records how each delivery was settled. */
function listSource<T>(items: readonly { id: string; value: T }[]) {
  const settled = new Map<string, string>()
  const source = defineSource<T>({
    name: 'list',
    open: async function* () {
      for (const item of items) {
        const delivery: Delivery<T> = {
          ...item,
          ack: async () => void settled.set(item.id, 'ack'),
          reject: async (error) => void settled.set(item.id, `reject:${(error as PacsflowError).code}`),
        }
        yield delivery
      }
    },
  })
  return { source, settled }
}

describe('runner with a source', () => {
  it('acks a delivery after its job is done, rejects it when the job fails, and goes idle', async () => {
    const { source, settled } = listSource([
      { id: 'study-1', value: 1 },
      { id: 'study-2', value: -1 },
      { id: 'study-3', value: 3 },
    ])
    const check = defineStage({
      name: 'check',
      run: async (n: number) => {
        if (n < 0) throw new PacsflowError('INVALID_OPTIONS', 'negative')
        return n
      },
    })
    const runner = createRunner({ pipeline: pipeline(check), source, store: fileJobStore(await tempDir()), concurrency: 2 })
    await runner.start()
    await runner.idle()
    expect(Object.fromEntries(settled)).toEqual({ 'study-1': 'ack', 'study-2': 'reject:STAGE_FAILED', 'study-3': 'ack' })
    const jobs = await runner.store.list()
    expect(jobs.map((job) => [job.deliveryId, job.status]).sort()).toEqual([
      ['study-1', 'done'],
      ['study-2', 'failed'],
      ['study-3', 'done'],
    ])
    expect(jobs.every((job) => job.id === jobIdFor(job.deliveryId!))).toBe(true)
    await runner.stop()
  })

  it('matches a redelivery to its job instead of starting a second one', async () => {
    let runs = 0
    const count = defineStage({ name: 'count', run: async (n: number) => (runs++, n) })
    const dir = await tempDir()
    for (let restart = 0; restart < 2; restart++) {
      const { source, settled } = listSource([{ id: 'same-study', value: 1 }])
      const runner = createRunner({ pipeline: pipeline(count), source, store: fileJobStore(dir) })
      await runner.start()
      await runner.idle()
      await runner.stop()
      expect(settled.get('same-study')).toBe('ack')
    }
    expect(runs).toBe(1)
    expect(await fileJobStore(dir).list()).toHaveLength(1)
  })

  it('reopens a failing source with backoff and reports it', async () => {
    let opens = 0
    const flaky = defineSource<number>({
      name: 'flaky',
      open: async function* () {
        opens++
        if (opens === 1) throw new Error('share not mounted')
        yield { id: 'a', value: 1, ack: async () => {}, reject: async () => {} }
      },
    })
    const runner = createRunner({
      pipeline: pipeline(defineStage({ name: 'id', run: async (n: number) => n })),
      source: flaky,
      store: fileJobStore(await tempDir()),
    })
    const errors: RunnerEvent[] = []
    runner.on('source:error', (e) => errors.push(e))
    await runner.start()
    await runner.idle()
    await runner.stop()
    expect(opens).toBe(2)
    expect(errors).toMatchObject([{ source: 'flaky', error: { code: 'SOURCE_FAILED', message: /share not mounted/ } }])
  })

  it('refuses to start twice and to run after stop', async () => {
    const runner = createRunner({
      pipeline: pipeline(defineStage({ name: 'id', run: async (n: number) => n })),
      store: fileJobStore(await tempDir()),
    })
    await runner.start()
    await expect(runner.start()).rejects.toMatchObject({ code: 'RUNNER_STATE' })
    await runner.stop()
    await runner.stop()
    await expect(runner.run(1)).rejects.toMatchObject({ code: 'RUNNER_STATE' })
  })
})

describe('stop, resume and retry', () => {
  it('stop() kills a stage child process and leaves the job to resume at that stage', async () => {
    const dir = await tempDir()
    let pid: number | undefined
    let firstRuns = 0
    let blocking = true
    const first = defineStage({ name: 'first', run: async (n: number) => (firstRuns++, n) })
    const spawnChild = defineStage({
      name: 'spawn',
      run: async (n: number, ctx) => {
        if (!blocking) return n + 1
        const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { signal: ctx.signal, stdio: 'ignore' })
        child.on('error', () => {}) // the abort surfaces as an AbortError here
        pid = child.pid
        ctx.log.info({ pid }, 'tool started')
        const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
        throw new Error(`tool exited ${code ?? signal}`)
      },
    })
    const flow = pipeline(first).pipe(spawnChild)
    const runner = createRunner({ pipeline: flow, store: fileJobStore(dir) })
    const stageEnds: RunnerEvent[] = []
    runner.on('stage:end', (e) => stageEnds.push(e))
    await runner.start()
    const running = runner.run(1, { jobId: 'scan' }).catch((e: unknown) => e)
    await waitFor(() => pid !== undefined)
    expect(isAlive(pid!)).toBe(true)
    await runner.stop()
    expect(await running).toMatchObject({ code: 'ABORTED' })
    await waitFor(() => !isAlive(pid!))
    expect(stageEnds.at(-1)).toMatchObject({ stage: 'spawn', outcome: 'aborted' })
    expect(await fileJobStore(dir).get('scan')).toMatchObject({ status: 'pending', checkpoints: [{ stage: 'first' }] })

    blocking = false
    const restarted = createRunner({ pipeline: flow, store: fileJobStore(dir) })
    const resumed: RunnerEvent[] = []
    restarted.on('job:resumed', (e) => resumed.push(e))
    const done = new Promise<RunnerEvent>((resolve) => restarted.on('job:done', resolve))
    await restarted.start()
    expect(await done).toMatchObject({ jobId: 'scan', output: 2 })
    expect(resumed).toMatchObject([{ jobId: 'scan', stage: 'spawn', reason: 'restart' }])
    expect(firstRuns).toBe(1)
    await restarted.stop()
  })

  it('retries a failed job by id from the stage that failed', async () => {
    const dir = await tempDir()
    let fixed = false
    const calls = { prepare: 0, send: 0 }
    const flow = pipeline(defineStage({ name: 'prepare', run: async (n: number) => (calls.prepare++, n) })).pipe(
      defineStage({
        name: 'send',
        run: async (n: number) => {
          calls.send++
          if (!fixed) throw new PacsflowError('UNKNOWN', 'association rejected')
          return n
        },
      }),
    )
    const runner = createRunner({ pipeline: flow, store: fileJobStore(dir), retry: { maxAttempts: 1 } })
    await expect(runner.run(9, { jobId: 'j' })).rejects.toMatchObject({ code: 'STAGE_FAILED' })
    await expect(runner.retryJob('j')).resolves.toMatchObject({ status: 'failed' })
    fixed = true
    const record = await runner.retryJob('j')
    expect(record).toMatchObject({ status: 'done', output: 9 })
    expect(record.error).toBeUndefined()
    expect(record.errors).toHaveLength(2)
    expect(calls).toEqual({ prepare: 1, send: 3 })
    await expect(runner.retryJob('j')).rejects.toMatchObject({ code: 'JOB_STATE' })
    await expect(runner.retryJob('missing')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' })
  })

  it('fails a job that keeps crashing the process at one stage (JOB_CRASH_LOOP)', async () => {
    const dir = await tempDir()
    const store = fileJobStore(dir)
    const at = new Date().toISOString()
    const pending = (id: string, count: number): JobRecord => ({
      id,
      status: 'pending',
      input: 1,
      stages: ['a', 'b'],
      checkpoints: [{ stage: 'a', output: 1, attempts: 1, durationMs: 1, finishedAt: at }],
      errors: [],
      crashResumes: { stage: 'b', count },
      createdAt: at,
      updatedAt: at,
    })
    await store.create(pending('looping', 2))
    await store.create(pending('unlucky', 1))
    const flow = pipeline(defineStage({ name: 'a', run: async (n: number) => n })).pipe(
      defineStage({ name: 'b', run: async (n: number) => n + 1 }),
    )
    const runner = createRunner({ pipeline: flow, store, maxResumes: 2 })
    const failed = new Promise<RunnerEvent>((resolve) => runner.on('job:failed', resolve))
    await runner.start()
    await runner.idle()
    expect(await failed).toMatchObject({ jobId: 'looping', error: { code: 'JOB_CRASH_LOOP' } })
    expect(await store.get('unlucky')).toMatchObject({ status: 'done', output: 2, crashResumes: { stage: 'b', count: 2 } })
    await runner.stop()
  })

  it('keeps the checkpoints that still match after the pipeline changed', async () => {
    const dir = await tempDir()
    const store = fileJobStore(dir)
    const at = new Date().toISOString()
    await store.create({
      id: 'old',
      status: 'pending',
      input: 1,
      stages: ['a', 'removed'],
      checkpoints: [
        { stage: 'a', output: 10, attempts: 1, durationMs: 1, finishedAt: at },
        { stage: 'removed', output: 99, attempts: 1, durationMs: 1, finishedAt: at },
      ],
      errors: [],
      createdAt: at,
      updatedAt: at,
    })
    const flow = pipeline(defineStage({ name: 'a', run: async (): Promise<number> => 0 })).pipe(
      defineStage({ name: 'c', run: async (n: number) => n + 1 }),
    )
    const runner = createRunner({ pipeline: flow, store })
    await runner.start()
    await runner.idle()
    expect(await store.get('old')).toMatchObject({ status: 'done', output: 11, stages: ['a', 'c'] })
    await runner.stop()
  })
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
