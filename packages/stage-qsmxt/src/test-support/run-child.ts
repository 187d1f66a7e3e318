// Child process for the SIGKILL test: a runner with a file job store whose one stage is qsmxt (stand-in tools on PATH).
// The parent kills it mid-step; the same job id then resumes the job where it stopped.
// Usage: node --conditions=source --import tsx run-child.ts <store-dir> <input.json>
import { readFileSync } from 'node:fs'
import { createRunner, fileJobStore, pipeline } from '@pacsflow/core'
import type { QsmNiftiInput } from '@pacsflow/imaging'
import { qsmxt } from '../stage.js'

const [storeDir, inputFile] = process.argv.slice(2)
if (storeDir === undefined || inputFile === undefined) throw new Error('usage: run-child.ts <store-dir> <input.json>')
const input = JSON.parse(readFileSync(inputFile, 'utf8')) as QsmNiftiInput
const runner = createRunner({
  pipeline: pipeline(qsmxt({ converter: 'native', registration: 'ants' })),
  store: fileJobStore(storeDir),
  resources: { gpu: 1 },
  retry: { maxAttempts: 1 },
})
const result = await runner.run(input, { jobId: 'resume-1' })
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
await runner.stop()
