// SHA-256 of a file on a worker thread, so hashing a large volume overlaps the encoder's own work.
import { Worker } from 'node:worker_threads'

// Source evaluated by the worker: no module to resolve, the same in src/ and dist/. Built-ins
// come from process.getBuiltinModule, which works whether the eval runs as CommonJS or (with an
// inherited --input-type=module) as ESM. One worker serves every request of the process, so only
// the first pays its start-up (~25 ms).
// The file is read synchronously (the worker has nothing else to do) into one reused 1 MiB
// buffer: a stream's fresh buffer per chunk costs a page fault per 4 KiB (a 46 MB volume took
// 44-71 ms streamed against 37-45 ms this way, on a 2-core VM).
const HASHER = `
const { parentPort } = process.getBuiltinModule('node:worker_threads')
const { createHash } = process.getBuiltinModule('node:crypto')
const { closeSync, openSync, readSync } = process.getBuiltinModule('node:fs')
const chunk = Buffer.allocUnsafeSlow(1 << 20)
parentPort.on('message', ({ id, path }) => {
  let fd
  try {
    fd = openSync(path, 'r')
    const hash = createHash('sha256')
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n))
    parentPort.postMessage({ id, digest: hash.digest('hex') })
  } catch (error) {
    parentPort.postMessage({ id, error: error.message })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
})
`

interface Pending {
  readonly resolve: (digest: string) => void
  readonly reject: (error: unknown) => void
}

type Reply = { id: number; digest: string } | { id: number; error: string }

let worker: Worker | undefined
let nextId = 0
const pending = new Map<number, Pending>()

/**
 * The shared worker, started on first use. It keeps the process alive only while a digest is
 * pending (ref while busy, unref when idle), so a CLI run still exits when its work is done.
 */
function hasher(): Worker {
  if (worker !== undefined) return worker
  const started = new Worker(HASHER, { eval: true })
  started.on('message', (reply: Reply) => {
    const request = pending.get(reply.id)
    if (request === undefined) return // its caller aborted
    settle(reply.id)
    if ('digest' in reply) request.resolve(reply.digest)
    else request.reject(new Error(reply.error))
  })
  const fail = (error: unknown): void => {
    if (worker === started) worker = undefined
    for (const [id, request] of pending) {
      pending.delete(id)
      request.reject(error)
    }
  }
  started.on('error', fail)
  started.on('exit', (code) => fail(new Error(`the digest worker exited (code ${code})`)))
  started.unref()
  worker = started
  return started
}

function settle(id: number): void {
  pending.delete(id)
  if (pending.size === 0) worker?.unref()
}

/** The file's SHA-256 (hex), computed off the main thread; rejects with the signal's reason on abort. */
export function fileDigest(path: string, signal?: AbortSignal): Promise<string> {
  if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
  return new Promise((resolve, reject) => {
    const id = nextId++
    const onAbort = (): void => {
      // The worker finishes that file (bounded work) and its answer is dropped.
      settle(id)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = (): void => signal?.removeEventListener('abort', onAbort)
    pending.set(id, {
      resolve: (digest) => {
        done()
        resolve(digest)
      },
      reject: (error) => {
        done()
        reject(error instanceof Error && !error.message.startsWith(path) ? new Error(`${path}: ${error.message}`, { cause: error }) : error)
      },
    })
    const thread = hasher()
    thread.ref()
    thread.postMessage({ id, path })
  })
}
