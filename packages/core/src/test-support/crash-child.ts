// Child process for the crash-safety test: a 4-stage pipeline over a durable inbox source, with a
// file job store. The parent kills it with SIGKILL at random points and starts it again.
// Usage: node --conditions=source --import tsx crash-child.ts <dir>
import { appendFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-write.js'
import { fileJobStore } from '../file-job-store.js'
import { pipeline } from '../pipeline.js'
import { createRunner } from '../runner.js'
import { defineSource, defineStage, type StageContext } from '../stage.js'

interface Item { readonly n: number; readonly trace: readonly number[] }

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: crash-child.ts <dir>')
const inbox = join(dir, 'inbox')

// Like a drop folder: everything still in the inbox is delivered (again) at every start;
// ack moves the file out, so an acknowledged delivery is never seen again.
const inboxSource = defineSource<Item>({
  name: 'inbox',
  open: async function* () {
    for (const name of (await readdir(inbox)).sort()) {
      const value = JSON.parse(await readFile(join(inbox, name), 'utf8')) as Item
      yield {
        id: name,
        value,
        ack: () => rename(join(inbox, name), join(dir, 'acked', name)),
        reject: () => rename(join(inbox, name), join(dir, 'rejected', name)),
      }
    }
  },
})

const step = (index: number) =>
  defineStage({
    name: `step-${index}`,
    run: async (item: Item, ctx: StageContext): Promise<Item> => {
      appendFileSync(join(dir, 'starts.log'), `${ctx.jobId} ${index}\n`)
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 12))
      return { n: item.n, trace: [...item.trace, index] }
    },
  })

// The sink is idempotent, as a real one must be (the outbox of stage-storescu does the same).
const deliver = defineStage({
  name: 'deliver',
  run: async (item: Item, ctx: StageContext): Promise<Item> => {
    appendFileSync(join(dir, 'starts.log'), `${ctx.jobId} 3\n`)
    await writeFileAtomic(join(dir, 'out', `${ctx.jobId}.json`), JSON.stringify(item))
    return item
  },
})

await Promise.all(['acked', 'rejected', 'out'].map((sub) => mkdir(join(dir, sub), { recursive: true })))
const runner = createRunner({
  pipeline: pipeline(step(0)).pipe(step(1)).pipe(step(2)).pipe(deliver),
  source: inboxSource,
  store: fileJobStore(join(dir, 'jobs')),
  concurrency: 3,
  // Kills at random points may land in one job's stage several times; the guard has its own test.
  maxResumes: 100,
})
runner.on('*', (event) => process.stdout.write(`${JSON.stringify(event)}\n`))
await runner.start()
await runner.idle()
await runner.stop()
process.stdout.write('IDLE\n')
