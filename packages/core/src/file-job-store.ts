// The embedded job store: a folder per job with its state written atomically, so jobs survive crashes.
import { readdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'
import { PacsflowError } from './errors.js'
import type { JobFilter, JobRecord, JobStore } from './job-store.js'
import { silentLogger, type Logger } from './logger.js'

export interface FileJobStoreOptions {
  /**
   * fsync each state file and its folder, so a job survives power loss and not only a crash
   * of the process (default true). Turn off only for throwaway runs.
   */
  readonly durable?: boolean
  /** Told about unreadable job records, which `list` skips. */
  readonly log?: Logger
}

const STATE_FILE = 'job.json'
const jobIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

/**
 * A job store in `dir`: `<dir>/<jobId>/job.json` holds the job's state (written to a temporary
 * name, fsynced, renamed), `<dir>/<jobId>/work/` its stages' files. A failed job stays on
 * disk with its error until removed, for a person to inspect and retry.
 */
export function fileJobStore(dir: string, options: FileJobStoreOptions = {}): JobStore {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new PacsflowError('INVALID_OPTIONS', 'fileJobStore(dir) needs a folder path')
  }
  const root = resolve(dir)
  const durable = options.durable ?? true
  const log = options.log ?? silentLogger
  const jobDir = (id: string): string => {
    if (!jobIdPattern.test(id)) {
      throw new PacsflowError('INVALID_OPTIONS', `job id ${JSON.stringify(id)} cannot name a folder`, {
        details: { jobId: id },
      })
    }
    return join(root, id)
  }
  const write = (record: JobRecord): Promise<void> =>
    writeFileAtomic(join(jobDir(record.id), STATE_FILE), `${JSON.stringify(record, null, 1)}\n`, { durable })

  const read = async (id: string): Promise<JobRecord | undefined> => {
    let text: string
    try {
      text = await readFile(join(jobDir(id), STATE_FILE), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      return JSON.parse(text) as JobRecord
    } catch (error) {
      throw new PacsflowError('JOB_STORE_CORRUPT', `job ${id}: ${STATE_FILE} is not valid JSON`, {
        cause: error,
        jobId: id,
      })
    }
  }

  return {
    async create(record) {
      const existing = await read(record.id)
      if (existing !== undefined) return { record: existing, created: false }
      await write(record)
      return { record, created: true }
    },
    get: read,
    save: write,
    async list(filter: JobFilter = {}) {
      let entries
      try {
        entries = await readdir(root, { withFileTypes: true })
      } catch (error) {
        // No folder yet: no job was ever created.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
      const records = await Promise.all(
        entries
          .filter((entry) => entry.isDirectory() && jobIdPattern.test(entry.name))
          .map(async (entry) => {
            try {
              return await read(entry.name)
            } catch (error) {
              log.error({ err: error, jobId: entry.name }, 'unreadable job record skipped')
              return undefined
            }
          }),
      )
      return records.filter(
        (record): record is JobRecord => record !== undefined && (filter.status?.includes(record.status) ?? true),
      )
    },
    async remove(id) {
      await rm(jobDir(id), { recursive: true, force: true })
    },
    workDir: (id) => join(jobDir(id), 'work'),
  }
}
