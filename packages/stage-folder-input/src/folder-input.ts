// folderInput(options): the Source that watches a drop folder, spools what arrives, and yields each study once complete.
import { stat } from 'node:fs/promises'
import { defineSource, isAbortError, PacsflowError, type Delivery, type Logger, type Source, type SourceContext } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { createSpool, spoolSource, type Spool, type SpoolSource } from '@pacsflow/spool'
import { DropFolder } from './drop-folder.js'
import { resolveFolderInput, type ResolvedFolderInput } from './options.js'
import type { FolderInputOptions } from './types.js'

/**
 * A `Source<DicomStudy>` over a drop folder (a memory stick, a network share, any layout): files
 * are taken once they stop changing, moved into the spool (the original removed only after the
 * spool holds it durably), and each study is yielded once complete, as `spoolSource` does.
 * Options are checked at once (INVALID_OPTIONS).
 */
export function folderInput(options: FolderInputOptions): Source<DicomStudy> {
  const resolved = resolveFolderInput(options)
  // The watcher of the open in progress: while it has files waiting, the spool holds studies back.
  const state: { drop: DropFolder | undefined } = { drop: undefined }
  let ready: Promise<{ spool: Spool; source: SpoolSource }> | undefined
  const prepare = (log: Logger): Promise<{ spool: Spool; source: SpoolSource }> => {
    ready ??= (async () => {
      const spool = typeof resolved.spool === 'string' ? await createSpool({ dir: resolved.spool, log }) : resolved.spool
      const source = spoolSource(spool, {
        ...resolved.completion,
        name: resolved.name,
        retention: resolved.retention,
        isReceiving: () => state.drop?.isBusy() ?? false,
      })
      return { spool, source }
    })()
    // A failure (the spool's disk) is tried again at the next open.
    ready.catch(() => (ready = undefined))
    return ready
  }
  return defineSource<DicomStudy>({ name: resolved.name, open: (ctx) => openFolderInput(resolved, prepare, state, ctx) })
}

async function checkFolder(dir: string): Promise<void> {
  const stats = await stat(dir).catch((error: unknown) => {
    throw new PacsflowError('FOLDER_INPUT_UNAVAILABLE', `the drop folder ${dir} cannot be read: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
      details: { dir },
    })
  })
  if (!stats.isDirectory()) {
    throw new PacsflowError('FOLDER_INPUT_UNAVAILABLE', `the drop folder ${dir} is not a folder`, { retryable: true, details: { dir } })
  }
}

async function* openFolderInput(
  options: ResolvedFolderInput,
  prepare: (log: Logger) => Promise<{ spool: Spool; source: SpoolSource }>,
  state: { drop: DropFolder | undefined },
  ctx: SourceContext,
): AsyncGenerator<Delivery<DicomStudy>> {
  // A folder that is not there (a share not mounted) is not created: the runner reopens the source with backoff.
  await checkFolder(options.dir)
  const { spool, source } = await prepare(ctx.log)
  const stop = new AbortController()
  const onAbort = (): void => stop.abort(ctx.signal.reason)
  if (ctx.signal.aborted) return
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  let failure: unknown
  const drop = new DropFolder(options, spool, ctx.log)
  state.drop = drop
  const watching = drop.run(stop.signal).catch((error: unknown) => {
    failure = error
    stop.abort(error)
  })
  const studies = source.open({ signal: stop.signal, log: ctx.log })[Symbol.asyncIterator]()
  let finished = false
  try {
    ctx.log.info({ dir: options.dir, spool: spool.dir }, 'watching the drop folder')
    for (;;) {
      let next: IteratorResult<Delivery<DicomStudy>>
      try {
        next = await studies.next()
      } catch (error) {
        if (stop.signal.aborted && (failure !== undefined || isAbortError(error) || ctx.signal.aborted)) break
        throw error
      }
      if (next.done === true) {
        finished = true
        break
      }
      yield next.value
    }
    if (failure !== undefined) throw failure
  } finally {
    stop.abort()
    ctx.signal.removeEventListener('abort', onAbort)
    await watching
    if (state.drop === drop) state.drop = undefined
    if (!finished) await studies.return?.(undefined).catch(() => {})
  }
}
