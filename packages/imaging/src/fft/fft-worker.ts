// The FFT worker thread's entry: takes chunks of each pass it is sent, on memory shared with the calling thread, until none is left.
import { parentPort, workerData } from 'node:worker_threads'
import { transformAxis } from './fft3d.js'
import { inverseRealPlaneRange, realPlaneRange, zColumnRange } from './real-fft.js'
import { elementwiseRange } from './spectral.js'
import { claimChunks, FAILURE_BYTES, type FftJob, type FftPass } from './threads.js'

const { control, failure } = workerData as { control: Int32Array; failure: Uint8Array }
const port = parentPort
if (port === null) throw new Error('fft-worker runs as a worker thread only')

function run(job: FftJob, first: number, last: number): void {
  switch (job.op) {
    case 'axis':
      transformAxis(job.re, job.im, job.shape, job.axis, job.inverse, first, last)
      return
    case 'real-planes':
      realPlaneRange(job.input, job.shape, { re: job.re, im: job.im }, first, last)
      return
    case 'elementwise':
      elementwiseRange(job.job, first, last)
      return
    case 'z-columns':
      zColumnRange({ re: job.re, im: job.im }, job.shape, job.inverse, first, last)
      return
    case 'inverse-real-planes':
      inverseRealPlaneRange({ re: job.re, im: job.im }, job.shape, job.out, first, last)
      return
  }
}

port.on('message', ({ job, units, chunk }: FftPass) => {
  try {
    claimChunks(control, units, chunk, (first, last) => run(job, first, last))
  } catch (error) {
    // The calling thread is blocked in Atomics.wait: the message goes through shared memory, not postMessage.
    const bytes = new TextEncoder().encode(error instanceof Error ? error.message : String(error)).subarray(0, FAILURE_BYTES)
    failure.set(bytes)
    Atomics.store(control, 1, Math.max(1, bytes.length))
  } finally {
    Atomics.add(control, 0, 1)
    Atomics.notify(control, 0)
  }
})
port.postMessage('ready')
