// The job store contract: what the runner persists about each job, and an in-memory store.
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeCrypto } from './builtins.js'
import type { SerializedError } from './errors.js'

/** `pending` until the last stage finishes (`done`) or a stage fails for good (`failed`). */
export type JobStatus = 'pending' | 'done' | 'failed'

/** A finished stage's output: where a resumed job picks up. */
export interface Checkpoint {
  readonly stage: string
  readonly output: unknown
  readonly attempts: number
  readonly durationMs: number
  readonly finishedAt: string
}

/** One failed attempt of a stage (the last {@link MAX_RECORDED_ERRORS} are kept). */
export interface AttemptError {
  readonly stage: string
  readonly attempt: number
  readonly error: SerializedError
  readonly at: string
}

/** Everything known about a job; plain JSON, so any store can keep it. */
export interface JobRecord {
  readonly id: string
  /** The source delivery this job came from; absent for `runner.run()` jobs. */
  readonly deliveryId?: string
  readonly status: JobStatus
  readonly input: unknown
  /** The pipeline's stage names when the job was (re)started. */
  readonly stages: readonly string[]
  /** One per finished stage, in order; `checkpoints.length` is the next stage's index. */
  readonly checkpoints: readonly Checkpoint[]
  readonly errors: readonly AttemptError[]
  /** Restarts that found the job in the middle of `stage` (a crash-loop guard). */
  readonly crashResumes?: { readonly stage: string; readonly count: number }
  /** The last stage's output, once `done`. */
  readonly output?: unknown
  /** Why the job failed, once `failed`. */
  readonly error?: SerializedError
  readonly createdAt: string
  readonly updatedAt: string
  readonly finishedAt?: string
}

export const MAX_RECORDED_ERRORS = 50

export interface JobFilter {
  readonly status?: readonly JobStatus[]
}

/**
 * Where the runner keeps jobs. Small on purpose, so that a distributed store (BullMQ on
 * Redis) can implement it. A store must make `save` atomic: a crash leaves either the old
 * record or the new one.
 */
export interface JobStore {
  /** Stores a new job. When a job with `record.id` exists, it is returned untouched with `created: false`. */
  create(record: JobRecord): Promise<{ readonly record: JobRecord; readonly created: boolean }>
  get(id: string): Promise<JobRecord | undefined>
  /** Replaces the stored record of `record.id`, atomically. */
  save(record: JobRecord): Promise<void>
  list(filter?: JobFilter): Promise<JobRecord[]>
  /** Deletes the job and its work folder. */
  remove(id: string): Promise<void>
  /** The job's private work folder (stages get a subfolder each). Not created by this call. */
  workDir(id: string): string
}

export interface MemoryJobStoreOptions {
  /** Where job work folders go (default: a new folder under the system temp dir). */
  readonly workRoot?: string
}

/**
 * A job store that lives in memory: for tests and one-off scripts. Nothing survives the
 * process, so nothing resumes: use `fileJobStore` in a service.
 */
export function memoryJobStore(options: MemoryJobStoreOptions = {}): JobStore {
  const jobs = new Map<string, JobRecord>()
  const workRoot = options.workRoot ?? join(tmpdir(), `pacsflow-jobs-${nodeCrypto().randomBytes(4).toString('hex')}`)
  const copy = (record: JobRecord): JobRecord => structuredClone(record)
  return {
    async create(record) {
      const existing = jobs.get(record.id)
      if (existing !== undefined) return { record: copy(existing), created: false }
      jobs.set(record.id, copy(record))
      return { record: copy(record), created: true }
    },
    async get(id) {
      const record = jobs.get(id)
      return record === undefined ? undefined : copy(record)
    },
    async save(record) {
      jobs.set(record.id, copy(record))
    },
    async list(filter = {}) {
      return [...jobs.values()].filter((job) => filter.status?.includes(job.status) ?? true).map(copy)
    },
    async remove(id) {
      jobs.delete(id)
      await rm(join(workRoot, id), { recursive: true, force: true })
    },
    workDir: (id) => join(workRoot, id),
  }
}
