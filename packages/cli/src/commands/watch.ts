// `pacsflow watch`: watch a drop folder and copy each complete study to an output folder, until SIGINT/SIGTERM.
import { join, resolve } from 'node:path'
import { createRunner, fileJobStore, jsonLogger, pipeline, silentLogger, type JobDoneEvent, type JobFailedEvent } from '@pacsflow/core'
import type { FolderLayout, FolderOutputReceipt } from '@pacsflow/stage-folder-output'
import { defineCommand, UsageError, type CliIo, type ParsedArgs } from '../command.js'

function text(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

/** A `--<name> <seconds>` flag as milliseconds. */
function seconds(args: ParsedArgs, name: string): number | undefined {
  const value = text(args, name)
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 86_400) throw new UsageError(`--${name} must be a number of seconds (0-86400)`)
  return Math.round(parsed * 1000)
}

/** The first SIGINT or SIGTERM from now on; `cancel` removes the handlers. */
function untilSignalled(): { signalled: Promise<NodeJS.Signals>; cancel: () => void } {
  let stop!: (signal: NodeJS.Signals) => void
  const cancel = (): void => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    stop = (signal) => {
      cancel()
      resolve(signal)
    }
  })
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return { signalled, cancel }
}

function reportDone(event: JobDoneEvent, studies: ReadonlyMap<string, string>, io: CliIo): void {
  const receipt = event.output as Partial<FolderOutputReceipt> | undefined
  const delivery = studies.get(event.jobId) ?? event.jobId
  io.stdout(`done ${delivery}: ${receipt?.files?.length ?? 0} file(s), ${receipt?.written ?? 0} written, ${receipt?.unchanged ?? 0} unchanged -> ${receipt?.dir ?? '?'}\n`)
}

function reportFailed(event: JobFailedEvent, studies: ReadonlyMap<string, string>, io: CliIo): void {
  const delivery = studies.get(event.jobId) ?? event.jobId
  const code = event.error.stageCode ?? event.error.code
  io.stderr(`failed ${delivery}: ${code}: ${event.error.message} (kept in the spool's failed/)\n`)
}

export const watchCommand = defineCommand({
  name: 'watch',
  summary: 'watch a drop folder and copy each complete study to an output folder',
  usage: 'pacsflow watch <dir> --spool <dir> --out <dir> [--quiet-period <s>] [options]',
  help: `Watches <dir> recursively (any layout: exam folders, loose files). Each file is taken once it has
stopped changing, moved into the spool (the original removed only once the spool holds it durably),
and each study, once complete (nothing new for the quiet period), is copied to the output folder.
Junk (non-DICOM, truncated files) goes to <spool>/quarantine with a reason. Runs until Ctrl-C
(SIGINT) or SIGTERM; a study interrupted then is finished at the next start. One line per study.

  --spool <dir>          the spool (kept between runs; jobs in <spool>/job-store)
  --out <dir>            where studies are copied
  --quiet-period <s>     a study is complete after this many seconds without a new file (default 60)
  --stable <s>           a file is taken after this many seconds unchanged (default 2)
  --layout <l>           flat (default) or patient-study-series
  --delete               delete a study from the spool once copied (default: keep it in <spool>/done)
  --verbose              log as JSON lines on stderr`,
  options: {
    spool: { type: 'string' },
    out: { type: 'string' },
    'quiet-period': { type: 'string' },
    stable: { type: 'string' },
    layout: { type: 'string' },
    delete: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [dir, ...extra] = args.positionals
    if (dir === undefined) throw new UsageError('give the folder to watch')
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const spoolArg = text(args, 'spool')
    const outArg = text(args, 'out')
    if (spoolArg === undefined || outArg === undefined) throw new UsageError('--spool <dir> and --out <dir> are required')
    const layout = text(args, 'layout') ?? 'flat'
    if (layout !== 'flat' && layout !== 'patient-study-series') throw new UsageError('--layout must be flat or patient-study-series')
    const [quietPeriodMs, stableMs] = [seconds(args, 'quiet-period'), seconds(args, 'stable')]
    const [watched, spool, out] = [dir, spoolArg, outArg].map((path) => resolve(io.cwd, path)) as [string, string, string]
    const log = args.values.verbose === true ? jsonLogger({ write: io.stderr }) : silentLogger

    const [{ folderInput }, { folderOutput }] = await Promise.all([import('@pacsflow/stage-folder-input'), import('@pacsflow/stage-folder-output')])
    const runner = createRunner({
      source: folderInput({
        dir: watched,
        spool,
        ...(quietPeriodMs === undefined ? {} : { quietPeriodMs }),
        ...(stableMs === undefined ? {} : { stableMs }),
        retention: args.values.delete === true ? 'delete' : 'keep',
      }),
      pipeline: pipeline(folderOutput({ dir: out, layout: layout as FolderLayout })),
      store: fileJobStore(join(spool, 'job-store')),
      log,
    })
    const studies = new Map<string, string>()
    runner.on('job:queued', (event) => studies.set(event.jobId, event.deliveryId ?? event.jobId))
    runner.on('job:done', (event) => reportDone(event, studies, io))
    runner.on('job:failed', (event) => reportFailed(event, studies, io))
    runner.on('source:error', (event) => io.stderr(`source: ${event.error.message} (trying again in ${Math.round(event.retryInMs / 1000)} s)\n`))
    const { signalled, cancel } = untilSignalled()
    try {
      await runner.start()
    } catch (error) {
      cancel()
      throw error
    }
    io.stdout(`watching ${watched} (spool ${spool}, output ${out}); Ctrl-C to stop\n`)
    const signal = await signalled
    await runner.stop()
    io.stdout(`stopped (${signal}); unfinished studies resume at the next start\n`)
    return 0
  },
})
