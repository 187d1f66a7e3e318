import { describe, expect, it } from 'vitest'
import { PacsflowError } from './errors.js'
import { fanOut } from './fan-out.js'
import { memoryJobStore } from './job-store.js'
import { pipeline } from './pipeline.js'
import { createRunner } from './runner.js'
import { defineStage } from './stage.js'
import { useTempDirs } from './test-support/temp-dir.js'

const tempDir = useTempDirs()

describe('fanOut', () => {
  it('hands the value to every branch and collects results by name', async () => {
    const seen: string[] = []
    const pacs = defineStage({
      name: 'pacs',
      run: async (n: number, ctx) => {
        seen.push(ctx.workDir)
        return { sent: n }
      },
    })
    const folder = defineStage({ name: 'folder', run: async (n: number) => `copy-${n}` })
    const runner = createRunner({
      pipeline: pipeline(fanOut({ pacs, folder })),
      store: memoryJobStore({ workRoot: await tempDir() }),
    })
    expect(await runner.run(7, { jobId: 'j1' })).toEqual({ pacs: { sent: 7 }, folder: 'copy-7' })
    expect(seen[0]).toMatch(/j1\/00-fan-out\/pacs$/)
  })

  it('lets every branch finish, fails FAN_OUT_FAILED, and re-runs only failed branches on retry', async () => {
    const calls = { pacs: 0, folder: 0 }
    let pacsDown = true
    const pacs = defineStage({
      name: 'pacs',
      run: async (n: number) => {
        calls.pacs++
        if (pacsDown) throw new PacsflowError('UNKNOWN', 'connection refused', { retryable: true })
        return n
      },
    })
    const folder = defineStage({
      name: 'folder',
      run: async (n: number) => {
        calls.folder++
        await new Promise((resolve) => setTimeout(resolve, 20))
        return n
      },
    })
    const failures: unknown[] = []
    const runner = createRunner({
      pipeline: pipeline(fanOut({ pacs, folder }, { name: 'send', retry: { maxAttempts: 2, initialDelayMs: 1, jitter: false } })),
      store: memoryJobStore({ workRoot: await tempDir() }),
    })
    runner.on('stage:end', (event) => {
      if (event.outcome !== 'ok') failures.push(event.error)
    })
    const error = await runner.run(1, { jobId: 'j' }).catch((e: unknown) => e as PacsflowError)
    expect(error).toMatchObject({ code: 'STAGE_FAILED', stage: 'send', stageCode: 'FAN_OUT_FAILED', jobId: 'j' })
    expect(failures[0]).toMatchObject({ code: 'FAN_OUT_FAILED', retryable: true, details: { succeeded: ['folder'] } })
    // Two attempts of the fan-out, the folder branch ran once: its result was kept.
    expect(calls).toEqual({ pacs: 2, folder: 1 })

    pacsDown = false
    const record = await runner.retryJob('j')
    expect(record.status).toBe('done')
    expect(record.output).toEqual({ pacs: 1, folder: 1 })
    expect(calls).toEqual({ pacs: 3, folder: 1 })
  })

  it('times a branch out with its own timeoutMs', async () => {
    const slow = defineStage({
      name: 'slow',
      timeoutMs: 30,
      run: (_: number, ctx) =>
        new Promise<number>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    })
    const fast = defineStage({ name: 'fast', run: async (n: number) => n })
    const runner = createRunner({
      pipeline: pipeline(fanOut({ slow, fast })),
      store: memoryJobStore({ workRoot: await tempDir() }),
      retry: { maxAttempts: 1 },
    })
    const error = (await runner.run(1).catch((e: unknown) => e)) as PacsflowError
    expect(error.stageCode).toBe('FAN_OUT_FAILED')
    expect((error.cause as PacsflowError).details).toMatchObject({ failures: { slow: { code: 'STAGE_TIMEOUT' } } })
  })

  it('declares the sum of its branches resources and checks its options', () => {
    const gpu = defineStage({ name: 'gpu', resources: { gpu: 1 }, run: async (n: number) => n })
    const both = fanOut({ a: gpu, b: { ...gpu, resources: { gpu: 1, licence: 1 } } })
    expect(both.resources).toEqual({ gpu: 2, licence: 1 })
    expect(() => fanOut({})).toThrowError(/at least one branch/)
    expect(() => fanOut({ 'a/b': gpu })).toThrowError(/branch name/)
  })
})
