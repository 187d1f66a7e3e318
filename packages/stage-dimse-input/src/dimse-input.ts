// dimseInput: the Source a scanner or PACS pushes to: the C-STORE SCP, the spool, and the spool's Source of complete studies.
import { defineSource, PacsflowError, type Source, type SourceContext, type Delivery } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { createSpool, resolveCompletion, spoolSource, type CompletionOptions, type Retention, type Spool } from '@pacsflow/spool'
import { resolveScpOptions, type StoreScpOptions } from './scp/options.js'
import { startStoreScp, type StoreScp } from './scp/server.js'

export interface DimseInputOptions extends Omit<StoreScpOptions, 'spool' | 'log'>, CompletionOptions {
  /** The spool folder (opened with `createSpool` when the source opens) or an open `Spool`. */
  readonly spool: string | Spool
  /** The source's name (default 'dimse-input'). */
  readonly name?: string
  /** After ack: 'keep' (default) moves the study to the spool's `done/`, 'delete' removes it. */
  readonly retention?: Retention
  /** Called with the running receiver once it listens (its port, its counters). */
  readonly onListening?: (scp: StoreScp) => void
}

/** A placeholder that passes the SCP's option checks at factory time; the real spool is opened in `open`. */
const checkOnlySpool = { dir: '', incomingPath: () => '', commit: () => Promise.reject(new Error('unused')) }

/**
 * A `Source<DicomStudy>`: `open(ctx)` starts a C-STORE SCP that stores every object it receives
 * in the spool (answering success only once it is durable there), and yields each study once
 * the spool deems it complete (quiet period, announced instance counts, maximum wait). When
 * `ctx.signal` aborts, the receiver stops listening, finishes the C-STOREs in flight, and the
 * iteration ends. Studies handed on and not acknowledged are yielded again after a restart.
 *
 * Throws INVALID_OPTIONS at once for bad options; `open` throws SCP_LISTEN_FAILED when the port
 * cannot be bound (the runner retries the source).
 */
export function dimseInput(options: DimseInputOptions): Source<DicomStudy> {
  if (typeof options !== 'object' || options === null) throw new PacsflowError('INVALID_OPTIONS', 'dimseInput: options are required')
  resolveScpOptions({ ...options, spool: checkOnlySpool })
  resolveCompletion(options)
  const spoolOption = options.spool
  if (typeof spoolOption !== 'string' && (typeof spoolOption !== 'object' || spoolOption === null || typeof spoolOption.commit !== 'function')) {
    throw new PacsflowError('INVALID_OPTIONS', 'dimseInput: spool must be a folder or a Spool from createSpool()')
  }
  const name = options.name ?? 'dimse-input'
  const { spool: _spool, name: _name, retention, onListening, quietPeriodMs, maxWaitMs, earlyCompletion, earlyGraceMs, latePolicy, ...scpOptions } = options
  const completion: CompletionOptions = {
    ...(quietPeriodMs === undefined ? {} : { quietPeriodMs }),
    ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
    ...(earlyCompletion === undefined ? {} : { earlyCompletion }),
    ...(earlyGraceMs === undefined ? {} : { earlyGraceMs }),
    ...(latePolicy === undefined ? {} : { latePolicy }),
  }

  async function* open(ctx: SourceContext): AsyncGenerator<Delivery<DicomStudy>> {
    const spool = typeof spoolOption === 'string' ? await createSpool({ dir: spoolOption, log: ctx.log }) : spoolOption
    const studies = spoolSource(spool, { name, ...completion, ...(retention === undefined ? {} : { retention }) })
    const scp = await startStoreScp({ ...scpOptions, spool, log: ctx.log })
    try {
      onListening?.(scp)
      if (ctx.signal.aborted) return
      yield* studies.open(ctx)
    } finally {
      await scp.close()
    }
  }

  return defineSource<DicomStudy>({ name, open })
}
