// The contract between the send loop and a transport (dcmjs-dimse in-process, or DCMTK's storescu).
import { PacsflowError } from '@pacsflow/core'
import type { SendItem } from './input.js'
import { classifyStoreStatus, describeStoreStatus } from './status.js'

/** What happened to one instance. A failed result whose error is retryable is sent again in a later round. */
export type ItemResult =
  | { readonly kind: 'stored'; readonly status: number; readonly transferSyntaxUid?: string; readonly comment?: string }
  | { readonly kind: 'failed'; readonly error: PacsflowError; readonly status?: number; readonly transferSyntaxUid?: string }

export interface TransportHooks {
  /** Called just before the instance's first byte goes out (the outbox records it). */
  intent(item: SendItem): void
  /** Called at most once per item, when its outcome is known. */
  result(item: SendItem, result: ItemResult): void
}

export interface Transport {
  /**
   * Sends what it can of `items`. Returns the error that stopped it early (no connection, a
   * rejected association, a timeout), or undefined. Items that got no result are retried.
   */
  send(items: readonly SendItem[], hooks: TransportHooks, signal: AbortSignal): Promise<PacsflowError | undefined>
}

/** A C-STORE response status as a result (PS3.4 Annex B.2.3, PS3.7 Annex C). */
export function resultFromStatus(item: SendItem, status: number, comment: string | undefined, transferSyntaxUid?: string): ItemResult {
  const syntax = transferSyntaxUid === undefined ? {} : { transferSyntaxUid }
  const statusClass = classifyStoreStatus(status)
  if (statusClass === 'success' || statusClass === 'warning') {
    const note = statusClass === 'warning' ? describeStoreStatus(status) + (comment ? `: ${comment}` : '') : comment
    return { kind: 'stored', status, ...syntax, ...(note ? { comment: note } : {}) }
  }
  const described = `${describeStoreStatus(status)}${comment ? ` (${comment})` : ''}`
  const error =
    statusClass === 'transient'
      ? new PacsflowError('STORE_OUT_OF_RESOURCES', `the PACS answered ${described} for ${item.sopInstanceUid}`, {
          retryable: true,
          details: { status, sopInstanceUid: item.sopInstanceUid, path: item.path },
        })
      : new PacsflowError('STORE_FAILED', `the PACS refused ${item.sopInstanceUid} (${item.path}): ${described}`, {
          details: { status, sopInstanceUid: item.sopInstanceUid, path: item.path },
        })
  return { kind: 'failed', error, status, ...syntax }
}

/** Any error of a transport as a coded one: an unexpected one counts as a lost connection (retryable). */
export function asStoreError(error: unknown): PacsflowError {
  if (error instanceof PacsflowError) return error
  return new PacsflowError('STORE_CONNECTION_FAILED', (error as Error)?.message ?? String(error), { retryable: true, cause: error })
}
