import { describe, expect, it } from 'vitest'
import { isPacsflowError } from './errors.js'
import { backoffDelay, resolveRetry, sleep } from './retry.js'

describe('backoff', () => {
  it('grows exponentially up to the cap, with jitter in [delay/2, delay]', () => {
    const retry = resolveRetry({ initialDelayMs: 100, factor: 3, maxDelayMs: 1000, jitter: false })
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(retry, attempt))).toEqual([100, 300, 900, 1000])
    const jittered = resolveRetry({ initialDelayMs: 100, factor: 2 })
    expect(backoffDelay(jittered, 2, () => 0)).toBe(100)
    expect(backoffDelay(jittered, 2, () => 0.999999)).toBe(200)
  })

  it('refuses impossible policies', () => {
    expect(() => resolveRetry({ maxAttempts: 0 })).toThrowError(/maxAttempts/)
    expect(() => resolveRetry({ factor: 0.5 })).toThrowError(/factor/)
    expect(resolveRetry(undefined, { maxAttempts: 5 }, { initialDelayMs: 7 })).toMatchObject({ maxAttempts: 5, initialDelayMs: 7 })
  })

  it('sleeps, and stops sleeping when aborted', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const pending = sleep(10_000, controller.signal)
    setTimeout(() => controller.abort(), 10)
    await expect(pending).rejects.toSatisfy((error) => isPacsflowError(error, 'ABORTED'))
    // Far below the 10 s sleep, with room for the multi-second stalls of a loaded CI machine.
    expect(performance.now() - started).toBeLessThan(5000)
    await expect(sleep(1)).resolves.toBeUndefined()
  })
})
