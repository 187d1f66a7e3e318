// Child process for the crash test: folderInput and a runner with a file job store; the parent SIGKILLs it at random moments.
// Usage: node --conditions=source --import tsx crash-child.ts <drop> <spool> <out> <jobs>
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRunner, defineStage, fileJobStore, pipeline, writeFileAtomic } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { folderInput } from '../folder-input.js'

const [drop, spool, out, jobs] = process.argv.slice(2)
if (drop === undefined || spool === undefined || out === undefined || jobs === undefined) throw new Error('usage: crash-child.ts <drop> <spool> <out> <jobs>')

// An idempotent sink, as a real one must be: each instance written atomically under its study.
const copyOut = defineStage({
  name: 'copy-out',
  run: async (study: DicomStudy, ctx) => {
    let files = 0
    for (const series of study.series) {
      for (const instance of series.instances) {
        if (ctx.signal.aborted) throw ctx.signal.reason
        await writeFileAtomic(join(out, study.studyInstanceUid, `${instance.sopInstanceUid}.dcm`), await readFile(instance.path), { durable: false })
        files++
      }
    }
    return { study: study.studyInstanceUid, files }
  },
})

const runner = createRunner({
  pipeline: pipeline(copyOut),
  source: folderInput({ dir: drop, spool, stableMs: 100, pollMs: 200, quietPeriodMs: 600, concurrency: 4 }),
  store: fileJobStore(jobs),
  concurrency: 2,
  maxResumes: 100,
})
runner.on('*', (event) => process.stdout.write(`${JSON.stringify(event)}\n`))
process.once('SIGTERM', () => {
  void runner.stop().then(() => process.exit(0))
})
await runner.start()
process.stdout.write('{"type":"started"}\n')
