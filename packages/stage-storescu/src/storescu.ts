// storescu(options): the sink stage that stores a series on a PACS, exactly once, and fails clearly when it cannot.
import { defineStage, PacsflowError, type PacsflowErrorCode, type Stage } from '@pacsflow/core'
import { resolveOptions, type ResolvedOptions } from './options.js'
import { sendResolved } from './send.js'
import type { StorescuInput, StorescuOptions, StoreReceipt } from './types.js'

/**
 * The stage's error when instances were not stored: the failures' own code when they share
 * one (every instance STORE_CONNECTION_FAILED when the PACS stayed down), STORE_INCOMPLETE when
 * they differ. Retryable when every failure is (a later retry sends only what the outbox lacks).
 * `details.receipt` is the whole receipt; `details.failed` lists the failures.
 */
export function incompleteError(receipt: StoreReceipt, options: ResolvedOptions): PacsflowError {
  const failed = receipt.instances.filter((instance) => instance.status === 'failed')
  const byCode = new Map<PacsflowErrorCode, number>()
  for (const instance of failed) {
    const code = instance.error?.code ?? 'STORE_INCOMPLETE'
    byCode.set(code, (byCode.get(code) ?? 0) + 1)
  }
  const codes = [...byCode.keys()]
  const summary = [...byCode].map(([code, count]) => `${count} x ${code}`).join(', ')
  const example = failed[0]?.error?.message ?? ''
  const where = `${options.calledAet}@${options.host}:${options.port}`
  return new PacsflowError(
    codes.length === 1 ? (codes[0] as PacsflowErrorCode) : 'STORE_INCOMPLETE',
    `${failed.length} of ${receipt.total} instance(s) were not stored on ${where} (${summary}); first: ${example}`,
    {
      retryable: failed.every((instance) => instance.error?.retryable === true),
      details: {
        failed: failed.map(({ sopInstanceUid, path, dimseStatus, error }) => ({
          sopInstanceUid,
          path,
          ...(dimseStatus === undefined ? {} : { dimseStatus }),
          code: error?.code,
          message: error?.message,
        })),
        receipt,
      },
    },
  )
}

/**
 * The sink stage: stores every instance of the input on the PACS and returns the receipt.
 * Its outbox lives in the job's workDir, so a resumed or retried job skips what the PACS
 * already acknowledged. Throws INVALID_OPTIONS at once for bad options.
 *
 * ```ts
 * const flow = pipeline(selectSeries(rules)).pipe(dicomise(opts)).pipe(storescu({ host: 'pacs', port: 104, calledAet: 'PACS' }))
 * ```
 */
export function storescu(options: StorescuOptions): Stage<StorescuInput, StoreReceipt> {
  const resolved = resolveOptions(options)
  return defineStage<StorescuInput, StoreReceipt>({
    name: resolved.name,
    run: async (input, ctx) => {
      const receipt = await sendResolved(input, resolved, {
        outboxDir: ctx.workDir,
        signal: ctx.signal,
        log: ctx.log,
        progress: (fraction, note) => ctx.progress(fraction, note),
      })
      if (receipt.failed > 0) throw incompleteError(receipt, resolved)
      return receipt
    },
  })
}
