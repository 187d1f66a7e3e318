// Named, counted slots (job concurrency, GPUs) granted first come, first served, and released on abort.
import { PacsflowError } from './errors.js'
import type { ResourceRequest } from './stage.js'

/** Slots held until `release()`; `slots` names the indices held, e.g. `{ gpu: [0] }`. */
export interface Lease {
  readonly slots: Readonly<Record<string, readonly number[]>>
  release(): void
}

interface Waiter {
  readonly request: ResourceRequest
  readonly grant: (lease: Lease) => void
}

/**
 * A pool of named slots. A request is granted all at once (no partial holds, so no deadlock
 * between two stages that each need two kinds), in arrival order: a large request is never
 * starved by a stream of small ones.
 */
export class ResourcePool {
  readonly #capacity = new Map<string, number>()
  readonly #free = new Map<string, number[]>()
  readonly #queue: Waiter[] = []

  constructor(capacity: ResourceRequest) {
    for (const [name, count] of Object.entries(capacity)) {
      if (!Number.isInteger(count) || count < 1) {
        throw new PacsflowError('INVALID_OPTIONS', `resource '${name}' needs a positive integer capacity, got ${count}`)
      }
      this.#capacity.set(name, count)
      this.#free.set(name, Array.from({ length: count }, (_, index) => index))
    }
  }

  /** Throws `INVALID_OPTIONS` when `request` names a resource the pool lacks or exceeds its capacity. */
  check(request: ResourceRequest, who: string): void {
    for (const [name, count] of Object.entries(request)) {
      const capacity = this.capacity(name)
      if (capacity === 0) {
        throw new PacsflowError(
          'INVALID_OPTIONS',
          `${who} needs resource '${name}', which the runner does not have: pass resources: { ${name}: N } to createRunner`,
          { details: { resource: name } },
        )
      }
      if (count > capacity) {
        throw new PacsflowError('INVALID_OPTIONS', `${who} needs ${count} '${name}' but the runner has ${capacity}`, {
          details: { resource: name, requested: count, capacity },
        })
      }
    }
  }

  /** Slots of `name` in all (0 for a resource the pool does not have). */
  capacity(name: string): number {
    return this.#capacity.get(name) ?? 0
  }

  /** Waits until every slot in `request` is free and takes them; rejects `ABORTED` if `signal` fires first. */
  acquire(request: ResourceRequest, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal))
    if (this.#queue.length === 0 && this.#fits(request)) return Promise.resolve(this.#take(request))
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#queue.indexOf(waiter)
        if (index >= 0) this.#queue.splice(index, 1)
        reject(abortError(signal!))
        // The head may have been the one blocking the others.
        this.#drain()
      }
      const waiter: Waiter = {
        request,
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(lease)
        },
      }
      this.#queue.push(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #fits(request: ResourceRequest): boolean {
    return Object.entries(request).every(([name, count]) => (this.#free.get(name)?.length ?? 0) >= count)
  }

  #take(request: ResourceRequest): Lease {
    const slots: Record<string, number[]> = {}
    for (const [name, count] of Object.entries(request)) {
      const free = this.#free.get(name)!
      free.sort((a, b) => a - b)
      slots[name] = free.splice(0, count)
    }
    let released = false
    const lease: Lease = {
      slots,
      release: () => {
        if (released) return
        released = true
        for (const [name, indices] of Object.entries(slots)) this.#free.get(name)!.push(...indices)
        this.#drain()
      },
    }
    return lease
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.request)) {
      const waiter = this.#queue.shift()!
      waiter.grant(this.#take(waiter.request))
    }
  }
}

function abortError(signal: AbortSignal): PacsflowError {
  return new PacsflowError('ABORTED', 'aborted while waiting for resources', { cause: signal.reason })
}
