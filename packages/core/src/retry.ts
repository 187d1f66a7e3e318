// Exponential backoff and an abortable sleep, shared by the runner and any stage that retries by itself.
import { PacsflowError } from './errors.js'
import type { RetryOptions } from './stage.js'

/** `RetryOptions` with every default filled in. */
export type ResolvedRetry = Required<Omit<RetryOptions, 'retryOn'>> & Pick<RetryOptions, 'retryOn'>

export const defaultRetry: ResolvedRetry = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: true,
}

/** Layers retry options (later ones win) over the defaults, and checks them. */
export function resolveRetry(...layers: readonly (RetryOptions | undefined)[]): ResolvedRetry {
  const merged: ResolvedRetry = Object.assign({}, defaultRetry, ...layers.filter((layer) => layer !== undefined))
  const { maxAttempts, initialDelayMs, maxDelayMs, factor } = merged
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new PacsflowError('INVALID_OPTIONS', `retry.maxAttempts must be an integer >= 1, got ${maxAttempts}`)
  }
  if (!(initialDelayMs >= 0) || !(maxDelayMs >= 0) || !(factor >= 1)) {
    throw new PacsflowError('INVALID_OPTIONS', 'retry delays must be >= 0 and retry.factor >= 1', {
      details: { initialDelayMs, maxDelayMs, factor },
    })
  }
  return merged
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed: initialDelay * factor^(attempt-1),
 * capped at maxDelay; with jitter, uniformly in [delay/2, delay] ("equal jitter", AWS
 * Architecture Blog, "Exponential Backoff and Jitter", 2015).
 */
export function backoffDelay(retry: ResolvedRetry, attempt: number, random: () => number = Math.random): number {
  const delay = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.factor ** (attempt - 1))
  return Math.round(retry.jitter ? delay / 2 + random() * (delay / 2) : delay)
}

/** Resolves after `ms`, or rejects `ABORTED` as soon as `signal` aborts (the timer is cleared). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): PacsflowError => new PacsflowError('ABORTED', 'aborted while waiting', { cause: signal?.reason })
    if (signal?.aborted === true) {
      reject(aborted())
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(aborted())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
