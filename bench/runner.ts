// Benchmark: N deliveries through a 4-stage no-op pipeline with the durable fileJobStore.
// Prints jobs/s and the median per-stage overhead, beside a baseline that performs the same
// durable writes (one atomic, fsynced JSON file per job creation and per checkpoint) with no
// runner at all: the I/O floor any durable runner pays. The ratio is what the runner adds.
//
// Run: npm run bench:runner -- [--jobs 5000] [--concurrency 8] [--no-durable]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRunner, defineSource, defineStage, fileJobStore, pipeline, writeFileAtomic } from '@pacsflow/core'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '8' },
    'no-durable': { type: 'boolean', default: false },
  },
})
const jobs = Number(values.jobs)
const concurrency = Number(values.concurrency)
const durable = !values['no-durable']
const STAGES = 4

const median = (numbers: number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function benchRunner(dir: string): Promise<{ seconds: number; overheadMs: number; acked: number }> {
  let acked = 0
  const source = defineSource<{ n: number }>({
    name: 'bench',
    open: async function* () {
      for (let n = 0; n < jobs; n++) {
        yield { id: `delivery-${n}`, value: { n }, ack: async () => void acked++, reject: async () => {} }
      }
    },
  })
  const noop = (index: number) => defineStage({ name: `noop-${index}`, run: async (value: { n: number }) => value })
  const runner = createRunner({
    pipeline: pipeline(noop(0)).pipe(noop(1)).pipe(noop(2)).pipe(noop(3)),
    source,
    store: fileJobStore(dir, { durable }),
    concurrency,
  })
  // Per-stage overhead: from the previous stage's end (or the job's creation) to this stage's end.
  const last = new Map<string, number>()
  const overheads: number[] = []
  runner.on('*', (event) => {
    const now = performance.now()
    if (event.type === 'job:queued') last.set(event.jobId, now)
    else if (event.type === 'stage:end') {
      overheads.push(now - last.get(event.jobId)!)
      last.set(event.jobId, now)
    } else if (event.type === 'job:done') last.delete(event.jobId)
  })
  const started = performance.now()
  await runner.start()
  await runner.idle()
  const seconds = (performance.now() - started) / 1000
  await runner.stop()
  return { seconds, overheadMs: median(overheads), acked }
}

/** The same durable writes as the runner makes (create + 4 checkpoints per job), nothing else. */
async function benchFloor(dir: string): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async (): Promise<void> => {
    for (let n = next++; n < jobs; n = next++) {
      const file = join(dir, `job-${n}`, 'job.json')
      const record = { id: `job-${n}`, status: 'pending', input: { n }, checkpoints: [] as unknown[] }
      await writeFileAtomic(file, JSON.stringify(record, null, 1), { durable })
      for (let stage = 0; stage < STAGES; stage++) {
        record.checkpoints.push({ stage: `noop-${stage}`, output: { n } })
        await writeFileAtomic(file, JSON.stringify(record, null, 1), { durable })
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return (performance.now() - started) / 1000
}

const root = await mkdtemp(join(tmpdir(), 'pacsflow-bench-'))
try {
  console.log(`runner bench: ${jobs} jobs, ${STAGES} no-op stages, concurrency ${concurrency}, durable ${durable}`)
  const floorSeconds = await benchFloor(join(root, 'floor'))
  const { seconds, overheadMs, acked } = await benchRunner(join(root, 'runner'))
  if (acked !== jobs) throw new Error(`only ${acked} of ${jobs} deliveries were acknowledged`)
  const rate = jobs / seconds
  const floorRate = jobs / floorSeconds
  console.log(`  pacsflow runner      : ${rate.toFixed(0)} jobs/s (${seconds.toFixed(2)} s), median per-stage overhead ${overheadMs.toFixed(2)} ms`)
  console.log(`  bare durable writes  : ${floorRate.toFixed(0)} jobs/s (${floorSeconds.toFixed(2)} s), same writes, no runner`)
  console.log(`  ratio runner / floor : ${(rate / floorRate).toFixed(2)}`)
  console.log(`  target >= 200 jobs/s : ${rate >= 200 ? 'met' : 'NOT met'}`)
} finally {
  await rm(root, { recursive: true, force: true })
}
