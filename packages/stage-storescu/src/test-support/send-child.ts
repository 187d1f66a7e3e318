// Child process for the SIGKILL test: a runner with a file job store whose one stage is storescu.
// The parent kills it mid-send and starts it again; the same job id resumes the same job.
// Usage: node --conditions=source --import tsx send-child.ts <store-dir> <port> <aet> <files-dir>
import { createRunner, fileJobStore, pipeline } from '@pacsflow/core'
import { storescu } from '../storescu.js'

const [storeDir, port, aet, filesDir] = process.argv.slice(2)
if (storeDir === undefined || port === undefined || aet === undefined || filesDir === undefined) {
  throw new Error('usage: send-child.ts <store-dir> <port> <aet> <files-dir>')
}
const runner = createRunner({
  pipeline: pipeline(storescu({ host: '127.0.0.1', port: Number(port), calledAet: aet, retry: { maxAttempts: 3, initialDelayMs: 100 } })),
  store: fileJobStore(storeDir),
  retry: { maxAttempts: 1 },
  // Every restart finds the job in the same stage; the crash-loop guard is not under test here.
  maxResumes: 50,
})
const receipt = await runner.run({ files: [filesDir] }, { jobId: 'send-1' })
process.stdout.write(`RECEIPT ${JSON.stringify(receipt)}\n`)
await runner.stop()
