import { stat } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { PacsflowError } from './errors.js'
import type { RunnerEvent } from './events.js'
import { memoryJobStore } from './job-store.js'
import { pipeline } from './pipeline.js'
import { createRunner } from './runner.js'
import { defineStage, type StageContext } from './stage.js'
import { useTempDirs } from './test-support/temp-dir.js'

const tempDir = useTempDirs()
const store = async () => memoryJobStore({ workRoot: await tempDir() })
const noDelay = { initialDelayMs: 1, jitter: false } as const

describe('runner.run', () => {
  it('runs the stages in order, checkpoints each, and emits the lifecycle', async () => {
    const contexts: StageContext[] = []
    const remember = <T>(ctx: StageContext, value: T): T => (contexts.push(ctx), value)
    const flow = pipeline(defineStage({ name: 'parse', run: async (text: string, ctx) => remember(ctx, Number(text)) }))
      .pipe(defineStage({ name: 'double', run: async (n: number, ctx) => remember(ctx, n * 2) }))
      .pipe(defineStage({ name: 'label', run: async (n: number, ctx) => remember(ctx, { label: `#${n}` }) }))
    const runner = createRunner({ pipeline: flow, store: await store() })
    const events: RunnerEvent[] = []
    runner.on('*', (event) => events.push(event))

    expect(await runner.run('21', { jobId: 'job-1' })).toEqual({ label: '#42' })

    expect(events.map((e) => `${e.type}${'stage' in e ? `:${e.stage}` : ''}`)).toEqual([
      'job:queued',
      'stage:start:parse', 'stage:end:parse',
      'stage:start:double', 'stage:end:double',
      'stage:start:label', 'stage:end:label',
      'job:done',
    ])
    const ends = events.filter((e) => e.type === 'stage:end')
    expect(ends.every((e) => e.outcome === 'ok' && e.durationMs >= 0 && e.attempt === 1)).toBe(true)
    const record = await runner.store.get('job-1')
    expect(record).toMatchObject({ status: 'done', output: { label: '#42' }, stages: ['parse', 'double', 'label'] })
    expect(record?.checkpoints.map((c) => [c.stage, c.output])).toEqual([['parse', 21], ['double', 42], ['label', { label: '#42' }]])
    // Each stage had its own work folder under the job's, created before it ran.
    expect(contexts.map((c) => c.workDir.slice(-9))).toEqual(['/00-parse', '01-double', '/02-label'])
    await expect(stat(contexts[1]!.workDir)).resolves.toBeTruthy()
    expect(contexts.every((c) => c.jobId === 'job-1' && c.attempt === 1 && !c.signal.aborted)).toBe(true)
  })

  it('passes the JSON form between stages, as a resumed job would see it', async () => {
    let seen: unknown
    const flow = pipeline(defineStage({ name: 'when', run: async () => ({ at: new Date(0) }) })).pipe(
      defineStage({ name: 'read', run: async (value: { at: Date }) => (seen = value.at) }),
    )
    await createRunner({ pipeline: flow, store: await store() }).run(undefined)
    expect(seen).toBe('1970-01-01T00:00:00.000Z')
  })

  it('fails a stage that returns what JSON cannot hold', async () => {
    const runner = createRunner({
      pipeline: pipeline(defineStage({ name: 'big', run: async () => ({ n: 10n }) })),
      store: await store(),
    })
    await expect(runner.run(undefined)).rejects.toMatchObject({ code: 'STAGE_FAILED', stageCode: 'OUTPUT_NOT_SERIALIZABLE' })
  })

  it('returns the stored result when the same job id runs again', async () => {
    let runs = 0
    const runner = createRunner({
      pipeline: pipeline(defineStage({ name: 'count', run: async (n: number) => (runs++, n) })),
      store: await store(),
    })
    await runner.run(5, { jobId: 'same' })
    expect(await runner.run(6, { jobId: 'same' })).toBe(5)
    expect(runs).toBe(1)
  })
})

describe('retries', () => {
  it('retries errors marked retryable with backoff, and records each failed attempt', async () => {
    let calls = 0
    const flaky = defineStage({
      name: 'flaky',
      run: async (n: number, ctx) => {
        calls++
        if (ctx.attempt < 3) throw new PacsflowError('UNKNOWN', `busy ${ctx.attempt}`, { retryable: true })
        return n
      },
    })
    const runner = createRunner({ pipeline: pipeline(flaky), store: await store(), retry: { ...noDelay, maxAttempts: 4 } })
    const ends: RunnerEvent[] = []
    runner.on('stage:end', (e) => ends.push(e))
    expect(await runner.run(1, { jobId: 'r' })).toBe(1)
    expect(calls).toBe(3)
    expect(ends.map((e) => e.type === 'stage:end' && e.outcome)).toEqual(['retry', 'retry', 'ok'])
    expect(ends[0]).toMatchObject({ retryInMs: 1, error: { message: 'busy 1' } })
    const record = await runner.store.get('r')
    expect(record?.errors.map((e) => e.attempt)).toEqual([1, 2])
    expect(record?.checkpoints[0]?.attempts).toBe(3)
  })

  it('does not retry other errors, and wraps the failure with stage, job and the stage code', async () => {
    let calls = 0
    const broken = defineStage({
      name: 'broken',
      run: async () => {
        calls++
        throw new PacsflowError('INVALID_OPTIONS', 'bad series')
      },
    })
    const runner = createRunner({ pipeline: pipeline(broken), store: await store(), retry: noDelay })
    const failed: RunnerEvent[] = []
    runner.on('job:failed', (e) => failed.push(e))
    const error = (await runner.run(0, { jobId: 'f' }).catch((e: unknown) => e)) as PacsflowError
    expect(calls).toBe(1)
    expect(error).toBeInstanceOf(PacsflowError)
    expect(error).toMatchObject({ code: 'STAGE_FAILED', stage: 'broken', jobId: 'f', stageCode: 'INVALID_OPTIONS' })
    expect((error.cause as PacsflowError).message).toBe('bad series')
    expect(failed).toMatchObject([{ jobId: 'f', stage: 'broken', error: { code: 'STAGE_FAILED' } }])
    expect(await runner.store.get('f')).toMatchObject({ status: 'failed', error: { stageCode: 'INVALID_OPTIONS' } })
  })

  it('gives up after maxAttempts, and lets a stage and the runner config override the policy', async () => {
    let calls = 0
    const down = defineStage({
      name: 'down',
      retry: { maxAttempts: 5 },
      run: async () => {
        calls++
        throw new PacsflowError('UNKNOWN', 'refused', { retryable: true })
      },
    })
    const runner = createRunner({
      pipeline: pipeline(down),
      store: await store(),
      retry: noDelay,
      stages: { down: { retry: { maxAttempts: 2 } } },
    })
    await expect(runner.run(0)).rejects.toMatchObject({ stageCode: 'UNKNOWN' })
    expect(calls).toBe(2)
    expect(() => createRunner({ pipeline: pipeline(down), store: memoryJobStore(), stages: { nope: {} } })).toThrowError(
      /no stage named 'nope'/,
    )
  })
})

describe('timeouts', () => {
  it('aborts the stage signal after timeoutMs and fails STAGE_TIMEOUT (retryable)', async () => {
    const reasons: unknown[] = []
    const hang = defineStage({
      name: 'hang',
      timeoutMs: 10_000,
      run: (_: number, ctx) =>
        new Promise<number>((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => {
            reasons.push(ctx.signal.reason)
            reject(ctx.signal.reason)
          }),
        ),
    })
    const runner = createRunner({
      pipeline: pipeline(hang),
      store: await store(),
      retry: { ...noDelay, maxAttempts: 2 },
      stages: { hang: { timeoutMs: 30 } },
    })
    const outcomes: string[] = []
    runner.on('stage:end', (event) => outcomes.push(event.outcome))
    const started = performance.now()
    const error = (await runner.run(0).catch((e: unknown) => e)) as PacsflowError
    // The stage hangs for ever: only the 30 ms timeouts end it; the bound leaves room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(error).toMatchObject({ code: 'STAGE_FAILED', stageCode: 'STAGE_TIMEOUT', retryable: true })
    expect(outcomes).toEqual(['retry', 'failed'])
    // Each attempt the stage saw was aborted with a TimeoutError (an attempt whose timeout fired
    // before the stage started is not started at all).
    expect(reasons.every((reason) => (reason as Error).name === 'TimeoutError')).toBe(true)
  })
})

describe('concurrency and resource slots', () => {
  it('runs at most `concurrency` jobs, and GPU stages one at a time while CPU stages overlap', async () => {
    const active = { cpu: 0, gpu: 0, jobs: 0 }
    const peak = { cpu: 0, gpu: 0, jobs: 0 }
    const gpuSlots: number[][] = []
    const hold = async (kind: 'cpu' | 'gpu', ms: number) => {
      active[kind]++
      peak[kind] = Math.max(peak[kind], active[kind])
      await new Promise((resolve) => setTimeout(resolve, ms))
      active[kind]--
    }
    const cpu = defineStage({
      name: 'cpu',
      run: async (n: number) => {
        active.jobs++
        peak.jobs = Math.max(peak.jobs, active.jobs)
        await hold('cpu', 15)
        return n
      },
    })
    const gpu = defineStage({
      name: 'gpu',
      resources: { gpu: 1 },
      run: async (n: number, ctx) => {
        gpuSlots.push([...(ctx.slots.gpu ?? [])])
        await hold('gpu', 10)
        active.jobs--
        return n
      },
    })
    const runner = createRunner({ pipeline: pipeline(cpu).pipe(gpu), store: await store(), concurrency: 3, resources: { gpu: 1 } })
    await Promise.all(Array.from({ length: 9 }, (_, i) => runner.run(i)))
    expect(peak.gpu).toBe(1)
    expect(peak.cpu).toBeGreaterThan(1)
    expect(peak.jobs).toBeLessThanOrEqual(3)
    expect(gpuSlots.every((slots) => slots.length === 1 && slots[0] === 0)).toBe(true)
  })

  it('refuses at creation a stage that needs a resource the runner lacks', () => {
    const gpu = defineStage({ name: 'gpu', resources: { gpu: 2 }, run: async () => 1 })
    expect(() => createRunner({ pipeline: pipeline(gpu), store: memoryJobStore() })).toThrowError(/does not have/)
    expect(() => createRunner({ pipeline: pipeline(gpu), store: memoryJobStore(), resources: { gpu: 1 } })).toThrowError(
      /needs 2 'gpu'/,
    )
    expect(() => createRunner({ pipeline: pipeline(gpu), store: memoryJobStore(), concurrency: 0 })).toThrowError(/concurrency/)
  })
})

describe('events', () => {
  it('streams events through an async iterator and throttles progress', async () => {
    const slow = defineStage({
      name: 'slow',
      run: async (n: number, ctx) => {
        for (let i = 0; i <= 100; i++) ctx.progress(i / 100, 'slices')
        ctx.progress(7) // clamped to 1
        return n
      },
    })
    const runner = createRunner({ pipeline: pipeline(slow), store: await store(), progressIntervalMs: 60_000 })
    const controller = new AbortController()
    const collected: RunnerEvent[] = []
    const reading = (async () => {
      for await (const event of runner.events({ signal: controller.signal })) {
        collected.push(event)
        if (event.type === 'job:done') controller.abort()
      }
    })()
    runner.on('*', () => {
      throw new Error('a broken listener does not break the runner')
    })
    await runner.run(3)
    await reading
    const progress = collected.filter((e) => e.type === 'stage:progress')
    expect(progress.map((e) => e.type === 'stage:progress' && e.fraction)).toEqual([0, 1, 1])
    expect(collected.at(-1)).toMatchObject({ type: 'job:done', output: 3 })
  })
})
