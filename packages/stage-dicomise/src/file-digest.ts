// SHA-256 of a file on a worker thread, so hashing a large volume overlaps the encoder's own work.
import { Worker } from 'node:worker_threads'

// Plain CommonJS evaluated by the worker: no module to resolve, the same in src/ and dist/.
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { createReadStream } = require('node:fs')
const hash = createHash('sha256')
createReadStream(workerData, { highWaterMark: 1 << 20 })
  .on('data', (chunk) => hash.update(chunk))
  .on('end', () => parentPort.postMessage(hash.digest('hex')))
  .on('error', (error) => parentPort.postMessage({ error: error.message }))
`

/** The file's SHA-256 (hex), computed off the main thread; rejects with the signal's reason on abort. */
export function fileDigest(path: string, signal?: AbortSignal): Promise<string> {
  if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
  return new Promise((resolve, reject) => {
    const worker = new Worker(HASHER, { eval: true, workerData: path })
    const onAbort = (): void => {
      void worker.terminate()
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = (): void => signal?.removeEventListener('abort', onAbort)
    worker.once('message', (message: string | { error: string }) => {
      done()
      void worker.terminate()
      if (typeof message === 'string') resolve(message)
      else reject(new Error(`${path}: ${message.error}`))
    })
    worker.once('error', (error) => {
      done()
      reject(error)
    })
  })
}
