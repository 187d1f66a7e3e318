// `pacsflow jobs`: list, show and remove the jobs of a file job store (what failed, where, and why).
import { resolve } from 'node:path'
import { fileJobStore, PacsflowError, type JobRecord, type JobStatus } from '@pacsflow/core'
import { defineCommand, UsageError, type CliIo, type ParsedArgs } from '../command.js'

const statuses: readonly JobStatus[] = ['pending', 'done', 'failed']

export const jobsCommand = defineCommand({
  name: 'jobs',
  summary: 'list, show or remove the jobs in a job store',
  usage: 'pacsflow jobs <list|show|remove> [id] --store <dir> [--status <s>] [--json]',
  help: `Reads the job store a runner keeps (fileJobStore). A failed job stays there with its error
until removed; retry it from your service with runner.retryJob(id).

  list             one line per job: id, status, next or failed stage, last update, error code
  show <id>        the whole job record (checkpoints, attempts, errors)
  remove <id>      delete the job and its work folder

  --store <dir>    the job store folder (or PACSFLOW_STORE)
  --status <s>     with list: only jobs in this status (pending, done, failed); repeatable
  --json           print JSON instead of text`,
  options: {
    store: { type: 'string' },
    status: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [action, id, ...extra] = args.positionals
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const dir = (args.values.store as string | undefined) ?? io.env.PACSFLOW_STORE
    if (dir === undefined) throw new UsageError('--store <dir> is required (or set PACSFLOW_STORE)')
    const store = fileJobStore(resolve(io.cwd, dir))
    const json = args.values.json === true
    switch (action) {
      case 'list':
        return list(await store.list({ status: wantedStatuses(args) }), json, io)
      case 'show': {
        const record = await store.get(requireId(id))
        if (record === undefined) throw new PacsflowError('JOB_NOT_FOUND', `no job ${id} in ${dir}`)
        io.stdout(json ? `${JSON.stringify(record, null, 2)}\n` : describe(record))
        return 0
      }
      case 'remove':
        if ((await store.get(requireId(id))) === undefined) throw new PacsflowError('JOB_NOT_FOUND', `no job ${id} in ${dir}`)
        await store.remove(requireId(id))
        io.stdout(`removed ${id}\n`)
        return 0
      default:
        throw new UsageError(action === undefined ? 'say list, show or remove' : `unknown action '${action}'`)
    }
  },
})

function wantedStatuses(args: ParsedArgs): readonly JobStatus[] {
  const wanted = (args.values.status as string[] | undefined) ?? [...statuses]
  for (const status of wanted) {
    if (!statuses.includes(status as JobStatus)) throw new UsageError(`--status must be one of ${statuses.join(', ')}`)
  }
  return wanted as JobStatus[]
}

function requireId(id: string | undefined): string {
  if (id === undefined) throw new UsageError('a job id is required')
  return id
}

/** Where the job is: the failed stage, the next stage, or its end. */
function position(record: JobRecord): string {
  if (record.status === 'failed') return record.error?.stage ?? '-'
  if (record.status === 'done') return '-'
  return record.stages[record.checkpoints.length] ?? '-'
}

function list(records: readonly JobRecord[], json: boolean, io: CliIo): number {
  const sorted = [...records].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  if (json) {
    io.stdout(`${JSON.stringify(sorted, null, 2)}\n`)
    return 0
  }
  const rows = [
    ['ID', 'STATUS', 'STAGE', 'UPDATED', 'ERROR'],
    ...sorted.map((r) => [r.id, r.status, position(r), r.updatedAt, r.error?.stageCode ?? r.error?.code ?? '']),
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  for (const row of rows) io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`)
  if (sorted.length === 0) io.stdout('(no jobs)\n')
  return 0
}

function describe(record: JobRecord): string {
  const lines = [
    `job       ${record.id}`,
    `status    ${record.status}${record.status === 'pending' ? ` (next: ${position(record)})` : ''}`,
    ...(record.deliveryId === undefined ? [] : [`delivery  ${record.deliveryId}`]),
    `created   ${record.createdAt}`,
    `updated   ${record.updatedAt}`,
    'stages:',
    ...record.stages.map((stage, index) => {
      const checkpoint = record.checkpoints[index]
      const state = checkpoint !== undefined
        ? `done in ${checkpoint.durationMs.toFixed(0)} ms, ${checkpoint.attempts} attempt(s)`
        : record.status === 'failed' && record.error?.stage === stage ? 'FAILED' : 'not run'
      return `  ${index + 1}. ${stage.padEnd(24)} ${state}`
    }),
  ]
  if (record.error !== undefined) {
    lines.push(`error     ${record.error.stageCode ?? record.error.code}: ${record.error.message}`)
  }
  if (record.errors.length > 0) {
    lines.push('failed attempts:')
    for (const attempt of record.errors) {
      lines.push(`  ${attempt.at}  ${attempt.stage} #${attempt.attempt}  ${attempt.error.code}: ${attempt.error.message}`)
    }
  }
  return `${lines.join('\n')}\n`
}
