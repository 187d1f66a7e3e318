// Worker threads for the FFTs of large volumes: the lines of one pass are split across threads that share the volume's memory.
//
// The FFT functions stay synchronous. Once `startFftThreads` has brought the workers up, a pass over
// a volume held in SharedArrayBuffers (see `fftArray`) posts each worker a range of line batches,
// transforms the first range on the calling thread, then blocks on an Atomics counter until every
// worker has finished its range. Passes on ordinary ArrayBuffers, small passes, and every pass
// before the start (or after a worker failed) run on the calling thread alone, with identical
// results: each line is transformed by the same code whichever thread takes it.
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { PacsflowError } from '@pacsflow/core'
import type { ElementwiseJob } from './spectral.js'

/** Smallest pass (values per part) worth splitting: below it the message round trip costs more than it saves. */
const MIN_PARALLEL_VALUES = 1 << 16

/** Longest a pass may wait for its workers before the pool is declared broken. */
const PASS_TIMEOUT_MS = 120_000

/** Longest `startFftThreads` waits for a worker to load its code. */
const START_TIMEOUT_MS = 30_000

/** What a pass does, over which arrays (the units each thread takes come from {@link claimChunks}). */
export type FftJob =
  | { readonly op: 'axis'; readonly re: Float64Array | Float32Array; readonly im: Float64Array | Float32Array; readonly shape: readonly [number, number, number]; readonly axis: 0 | 1 | 2; readonly inverse: boolean }
  | { readonly op: 'real-planes'; readonly input: Float64Array | Float32Array; readonly shape: readonly [number, number, number]; readonly re: Float64Array; readonly im: Float64Array }
  | { readonly op: 'z-columns'; readonly re: Float64Array; readonly im: Float64Array; readonly shape: readonly [number, number, number]; readonly inverse: boolean }
  | { readonly op: 'elementwise'; readonly job: ElementwiseJob }
  | { readonly op: 'inverse-real-planes'; readonly re: Float64Array; readonly im: Float64Array; readonly shape: readonly [number, number, number]; readonly out: Float64Array | Float32Array }

interface Pool {
  readonly workers: Worker[]
  /**
   * [0]: workers finished in the current pass; [1]: bytes of a worker's error message in `failure`
   * (0: none); [2]: the next chunk of the pass to claim (see {@link claimChunks}).
   */
  readonly control: Int32Array
  /** A failed worker's error message, UTF-8 (shared: the calling thread is blocked while the worker writes it). */
  readonly failure: Uint8Array
}

/** Bytes kept of a worker's error message. */
export const FAILURE_BYTES = 1024

/**
 * node:worker_threads, loaded when a pool starts: importing it loads node:net and the worker
 * machinery (~3 ms), which every command that imports this package but never starts threads
 * (e.g. `pacsflow dicom2nifti`) would pay at start-up.
 */
const workerThreads = (): typeof import('node:worker_threads') => process.getBuiltinModule('node:worker_threads')

let pool: Pool | undefined
let starting: Promise<number> | undefined
let splitPasses = 0

/** The thread count `startFftThreads` uses by default: the cores Node may use, at most 4. */
export function defaultFftThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()))
}

/** What the pool does: threads in use now, and the passes split across threads since the process started. */
export function fftThreadStats(): { readonly threads: number; readonly splitPasses: number } {
  return { threads: fftThreads(), splitPasses }
}

/** Threads (the calling one included) that large FFT passes are split across now: 1 until `startFftThreads`. */
export function fftThreads(): number {
  return pool === undefined ? 1 : pool.workers.length + 1
}

/**
 * Starts `threads - 1` worker threads (the calling thread is the other one) for the FFTs of large
 * volumes, and resolves with the thread count in use once they have loaded their code. Idempotent:
 * a running pool of another size is replaced. The workers are unref'd (they never keep the process
 * alive) and idle between passes. `threads` 1 stops the pool. Only the main thread starts a pool.
 * A worker that cannot start rejects with `FFT_THREADS` and leaves the FFTs single-threaded.
 */
export async function startFftThreads(threads: number = defaultFftThreads()): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new PacsflowError('INVALID_OPTIONS', `FFT threads must be an integer from 1 to 64, got ${String(threads)}`)
  }
  if (!workerThreads().isMainThread) return 1
  if (starting !== undefined) await starting.catch(() => undefined)
  if (fftThreads() === threads) return threads
  await stopFftThreads()
  if (threads === 1) return 1
  starting = launch(threads - 1).finally(() => {
    starting = undefined
  })
  return starting
}

/** Stops the worker threads; later passes run on the calling thread. */
export async function stopFftThreads(): Promise<void> {
  const current = pool
  pool = undefined
  if (current !== undefined) await Promise.all(current.workers.map((worker) => worker.terminate()))
}

async function launch(count: number): Promise<number> {
  const control = new Int32Array(new SharedArrayBuffer(12))
  const failure = new Uint8Array(new SharedArrayBuffer(FAILURE_BYTES))
  const { url, execArgv } = workerEntry()
  const workers: Worker[] = []
  const candidate: Pool = { workers, control, failure }
  try {
    await Promise.all(
      Array.from({ length: count }, () => {
        const worker = new (workerThreads().Worker)(url, { workerData: { control, failure }, ...(execArgv === undefined ? {} : { execArgv }) })
        workers.push(worker)
        return ready(worker, candidate)
      }),
    )
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()))
    throw new PacsflowError('FFT_THREADS', `the FFT worker threads did not start: ${(error as Error).message}`, { cause: error })
  }
  for (const worker of workers) worker.unref()
  pool = candidate
  return count + 1
}

/** Resolves when the worker says it is ready; afterwards its errors are kept for the next pass to report. */
function ready(worker: Worker, owner: Pool): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a worker gave no sign of life in ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS)
    worker.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    worker.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`a worker exited with code ${code} while starting`))
    })
    worker.once('message', (message: unknown) => {
      clearTimeout(timer)
      if (message !== 'ready') {
        reject(new Error(`a worker said ${JSON.stringify(message)} instead of ready`))
        return
      }
      worker.removeAllListeners('error').removeAllListeners('exit')
      // Later: a worker that dies takes the pool down with it, so no later pass waits on it.
      worker.on('error', () => {
        if (pool === owner) pool = undefined
      })
      worker.on('exit', () => {
        if (pool === owner) pool = undefined
      })
      resolve()
    })
  })
}

/**
 * The worker's module: the built `fft-worker.js` beside this bundle, or in a source checkout the
 * TypeScript file, loaded through tsx with the `source` export condition (as the tests and benches run).
 */
function workerEntry(): { url: URL; execArgv?: string[] } {
  const here = import.meta.url
  if (/\.[cm]?ts$/.test(new URL(here).pathname)) {
    // tsx resolved from here, not from the working directory (a process may run anywhere).
    const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href
    return { url: new URL('./fft-worker.ts', here), execArgv: ['--conditions=source', '--import', tsx] }
  }
  // A worker inherits the process's flags; a flag that only means something to the main script breaks it.
  return { url: new URL('./fft-worker.js', here), execArgv: process.execArgv.filter((flag) => !/^--(input-type|eval|print|test|watch)\b/.test(flag)) }
}

/** A float64 array that worker threads can share when the pool runs (a plain one otherwise). */
export function fftArray(length: number): Float64Array {
  return pool === undefined ? new Float64Array(length) : new Float64Array(new SharedArrayBuffer(length * 8))
}

/** An array a pass can share with the worker threads (when its buffer is a SharedArrayBuffer). */
export type SharedArray = Float64Array | Float32Array | Uint8Array

/** A copy of `array` that the FFT worker threads can share when the pool runs (a plain copy otherwise): e.g. a mask for {@link sharePass}. */
export function sharedCopy<T extends SharedArray>(array: T): T {
  if (pool === undefined) return array.slice() as T
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength))
  copy.set(array as never)
  return copy
}

function shared(array: SharedArray): boolean {
  return array.buffer instanceof SharedArrayBuffer
}

/** A pass as a worker receives it: the job over all units, taken a chunk of `chunk` units at a time. */
export interface FftPass {
  readonly job: FftJob
  readonly units: number
  readonly chunk: number
}

/** Chunks per thread in a pass: enough that a thread that starts late or runs slow takes fewer. */
const CHUNKS_PER_THREAD = 8

/**
 * Runs `run(first, last)` on chunks of `units` units claimed from the pool's shared counter until
 * none is left: each thread of a pass, the calling one included, does as many chunks as it gets to,
 * so a worker woken late, or a core taken by another process, costs only its own share of time.
 */
export function claimChunks(control: Int32Array, units: number, chunk: number, run: (first: number, last: number) => void): void {
  for (;;) {
    const first = Atomics.add(control, 2, 1) * chunk
    if (first >= units) return
    run(first, Math.min(units, first + chunk))
  }
}

/**
 * Runs a pass of `units` independent units over `arrays`, split across the pool: the workers run
 * `job` and this thread `local(first, last)` on the chunks each claims, a chunk being a multiple
 * of `granularity` units. Returns false, having done nothing, when the pass should run
 * single-threaded (no pool, small, or an array not shared). Which thread transforms a unit never
 * changes its result: any split is bit-identical.
 */
export function sharePass(
  units: number,
  values: number,
  arrays: readonly SharedArray[],
  job: FftJob,
  local: (first: number, last: number) => void,
  granularity = 1,
): boolean {
  const current = pool
  if (current === undefined || values < MIN_PARALLEL_VALUES || units < 2 || !arrays.every(shared)) return false
  const threads = Math.min(current.workers.length + 1, units)
  const chunk = granularity * Math.max(1, Math.ceil(units / (threads * CHUNKS_PER_THREAD * granularity)))
  const { control } = current
  Atomics.store(control, 0, 0)
  Atomics.store(control, 1, 0)
  Atomics.store(control, 2, 0)
  const pass: FftPass = { job, units, chunk }
  for (let t = 1; t < threads; t++) (current.workers[t - 1] as Worker).postMessage(pass)
  claimChunks(control, units, chunk, local)
  waitFor(current, threads - 1)
  splitPasses++
  return true
}

function waitFor(current: Pool, posted: number): void {
  const { control } = current
  const deadline = Date.now() + PASS_TIMEOUT_MS
  for (;;) {
    const done = Atomics.load(control, 0)
    if (done >= posted) break
    const left = deadline - Date.now()
    if (left <= 0) {
      if (pool === current) pool = undefined
      for (const worker of current.workers) void worker.terminate()
      throw new PacsflowError('FFT_THREADS', `an FFT worker thread did not finish its share in ${PASS_TIMEOUT_MS / 1000} s; the FFTs continue single-threaded`)
    }
    Atomics.wait(control, 0, done, left)
  }
  const failed = Atomics.load(control, 1)
  if (failed !== 0) {
    if (pool === current) pool = undefined
    for (const worker of current.workers) void worker.terminate()
    const message = new TextDecoder().decode(current.failure.slice(0, Math.min(failed, FAILURE_BYTES)))
    throw new PacsflowError('FFT_THREADS', `an FFT worker thread failed: ${message}; the FFTs continue single-threaded`)
  }
}
