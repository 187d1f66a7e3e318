// Example: how a site writes its own stage with defineStage and runs it durably.
//
// It wraps an "in-house tool" (here: `node --version`, so it runs anywhere) as a stage that
// honours cancellation, logs through the runner's logger, reports progress and writes its
// result into the job's work folder. The runner checkpoints each stage, so if this script is
// killed and run again with the same store it resumes instead of starting over.
//
// Run: npm run custom-stage -w examples            (or: npx tsx examples/custom-stage.ts)
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createRunner, defineStage, fileJobStore, jsonLogger, PacsflowError, pipeline } from '@pacsflow/core'

interface Request { readonly patientId: string }
interface ToolResult { readonly patientId: string; readonly report: string }

/** A stage factory in the house style: validate options at once, return { name, run }. */
function inHouseTool(options: { readonly command: string; readonly args: readonly string[] }) {
  if (options.command.length === 0) throw new PacsflowError('INVALID_OPTIONS', 'inHouseTool: command is empty')
  return defineStage({
    name: 'in-house-tool',
    timeoutMs: 60_000,
    retry: { maxAttempts: 2 },
    run: async (request: Request, ctx): Promise<ToolResult> => {
      ctx.progress(0, 'starting tool')
      // The signal kills the tool when the runner stops or the timeout passes.
      const { stdout } = await promisify(execFile)(options.command, [...options.args], { signal: ctx.signal })
      const report = join(ctx.workDir, 'report.txt')
      await writeFile(report, `patient ${request.patientId}: ${stdout}`)
      ctx.log.info({ report }, 'tool finished')
      ctx.progress(1)
      return { patientId: request.patientId, report }
    },
  })
}

const summarise = defineStage({
  name: 'summarise',
  run: async (result: ToolResult) => `report for ${result.patientId} at ${result.report}`,
})

const runner = createRunner({
  pipeline: pipeline(inHouseTool({ command: process.execPath, args: ['--version'] })).pipe(summarise),
  store: fileJobStore(join(process.cwd(), '.pacsflow-example-jobs')),
  log: jsonLogger({ level: 'info' }),
})
runner.on('stage:end', (event) => console.log(`${event.stage}: ${event.outcome} in ${event.durationMs.toFixed(0)} ms`))
console.log(await runner.run({ patientId: 'PAT-0001' }, { jobId: 'example-job' }))
