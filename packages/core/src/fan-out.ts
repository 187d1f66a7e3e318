// One value to several sinks at once (PACS and a folder), with each branch's result collected.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'
import { PacsflowError, serializeError, toPacsflowError } from './errors.js'
import {
  assertStageName,
  type AnyStage,
  type ResourceRequest,
  type RetryOptions,
  type Stage,
  type StageContext,
  type StageInput,
  type StageOutput,
} from './stage.js'

/**
 * The input a set of branches accepts: what every branch accepts, i.e. the intersection of the
 * branches' inputs. Each input is intersected whole (through one contravariant function per
 * branch), so a branch that takes a union (`DicomSeries | { files }`) keeps its union.
 */
export type FanOutInput<B extends Record<string, Stage<never, unknown>>> = {
  [K in keyof B]: (input: StageInput<B[K]>) => void
}[keyof B] extends (input: infer I) => void
  ? I
  : never
/** The collected results, one per branch name. */
export type FanOutOutput<B extends Record<string, Stage<never, unknown>>> = { [K in keyof B]: StageOutput<B[K]> }

export interface FanOutOptions {
  /** The stage's name in the pipeline (default `'fan-out'`). */
  readonly name?: string
  /** Retry policy of the combined stage; branches that already succeeded are not run again. */
  readonly retry?: RetryOptions
  /** Time limit of one attempt of the combined stage, in ms. */
  readonly timeoutMs?: number
}

/**
 * A stage that hands its input to every branch concurrently and returns their results by
 * name. Every branch runs to the end even when another fails; then, if any failed, the stage
 * fails `FAN_OUT_FAILED` (retryable when every failure is). A branch's result is saved in the
 * stage's workDir, so a retry or a resumed job runs only the branches that had not succeeded:
 * a folder copy is not written twice because PACS was down.
 *
 * Each branch gets its own workDir (`<workDir>/<branch>`), logger binding, and its own
 * `timeoutMs`; the combined stage holds the sum of the branches' resources.
 *
 * ```ts
 * pipeline(select).pipe(qsm).pipe(dicomise(opts))
 *   .pipe(fanOut({ pacs: storescu(pacs), stick: folderOutput({ dir }) }))
 * ```
 */
export function fanOut<B extends Record<string, Stage<never, unknown>>>(
  branches: B,
  options: FanOutOptions = {},
): Stage<FanOutInput<B>, FanOutOutput<B>> {
  const name = options.name ?? 'fan-out'
  assertStageName(name)
  const entries = Object.entries(branches) as [string, AnyStage][]
  if (entries.length === 0) {
    throw new PacsflowError('INVALID_OPTIONS', `fanOut '${name}' needs at least one branch`)
  }
  for (const [branch, stage] of entries) {
    assertStageName(branch, 'branch')
    if (stage === null || typeof stage !== 'object' || typeof stage.run !== 'function') {
      throw new PacsflowError('INVALID_OPTIONS', `fanOut '${name}': branch '${branch}' is not a stage`)
    }
  }

  return {
    name,
    resources: sumResources(entries.map(([, stage]) => stage.resources ?? {})),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    run: async (input, ctx) => {
      const fractions = new Map<string, number>(entries.map(([branch]) => [branch, 0]))
      const settled = await Promise.allSettled(
        entries.map(async ([branch, stage]) => {
          const output = await runBranch(branch, stage, input, ctx, (fraction) => {
            fractions.set(branch, fraction)
            ctx.progress([...fractions.values()].reduce((a, b) => a + b, 0) / entries.length, branch)
          })
          return [branch, output] as const
        }),
      )
      const results: Record<string, unknown> = {}
      const failures: Record<string, ReturnType<typeof serializeError>> = {}
      const errors: PacsflowError[] = []
      settled.forEach((outcome, index) => {
        const branch = entries[index]![0]
        if (outcome.status === 'fulfilled') results[branch] = outcome.value[1]
        else {
          const error = toPacsflowError(outcome.reason)
          errors.push(error)
          failures[branch] = serializeError(error)
        }
      })
      if (errors.length > 0) {
        const names = Object.keys(failures)
        throw new PacsflowError(
          'FAN_OUT_FAILED',
          `${names.length} of ${entries.length} branches failed (${names.join(', ')}): ${errors[0]!.message}`,
          {
            cause: errors.length === 1 ? errors[0] : new AggregateError(errors, 'fan-out branches failed'),
            retryable: errors.every((error) => error.retryable),
            details: { failures, succeeded: Object.keys(results) },
          },
        )
      }
      return results as FanOutOutput<B>
    },
  }
}

async function runBranch(
  branch: string,
  stage: AnyStage,
  input: unknown,
  ctx: StageContext,
  onProgress: (fraction: number) => void,
): Promise<unknown> {
  const resultFile = join(ctx.workDir, `${branch}.result.json`)
  const saved = await readSaved(resultFile)
  if (saved !== undefined) {
    ctx.log.info({ branch }, 'fan-out branch already succeeded in an earlier attempt; not run again')
    onProgress(1)
    return saved.output
  }
  const timeout = stage.timeoutMs === undefined ? undefined : AbortSignal.timeout(stage.timeoutMs)
  let output: unknown
  try {
    output = await stage.run(input, {
      ...ctx,
      stage: `${ctx.stage}/${branch}`,
      signal: timeout === undefined ? ctx.signal : AbortSignal.any([ctx.signal, timeout]),
      workDir: join(ctx.workDir, branch),
      log: ctx.log.child({ branch }),
      progress: (fraction: number) => onProgress(fraction),
    })
  } catch (error) {
    if (timeout?.aborted === true && !ctx.signal.aborted) {
      throw new PacsflowError('STAGE_TIMEOUT', `branch '${branch}' ran past ${stage.timeoutMs} ms`, {
        cause: error,
        retryable: true,
      })
    }
    throw error
  }
  await writeFileAtomic(resultFile, JSON.stringify({ output }))
  onProgress(1)
  return output
}

async function readSaved(file: string): Promise<{ output: unknown } | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { output: unknown }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function sumResources(requests: readonly ResourceRequest[]): ResourceRequest {
  const total: Record<string, number> = {}
  for (const request of requests) {
    for (const [resource, count] of Object.entries(request)) total[resource] = (total[resource] ?? 0) + count
  }
  return total
}
