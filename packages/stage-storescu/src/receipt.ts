// The receipt: one entry per SOP instance as outcomes arrive, and the totals at the end.
import type { PacsflowError, SerializedError } from '@pacsflow/core'
import type { IndexProblem } from '@pacsflow/imaging'
import type { SendItem } from './input.js'
import type { ResolvedOptions } from './options.js'
import type { InstanceReceipt, InstanceStatus, StoreReceipt } from './types.js'

/** The error as the receipt keeps it: code, message, retryable and details; no stack (receipts are checkpointed). */
export function leanError(error: PacsflowError): SerializedError {
  return {
    name: error.name,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.details === undefined ? {} : { details: error.details }),
  }
}

export function failedReceipt(
  item: Pick<SendItem, 'path' | 'sopInstanceUid' | 'sopClassUid'>,
  error: PacsflowError,
  dimseStatus?: number,
): InstanceReceipt {
  return {
    sopInstanceUid: item.sopInstanceUid,
    sopClassUid: item.sopClassUid,
    path: item.path,
    status: 'failed',
    ...(dimseStatus === undefined ? {} : { dimseStatus }),
    error: leanError(error),
  }
}

const DELIVERED: ReadonlySet<InstanceStatus> = new Set(['stored', 'warning', 'already-stored'])

/** Final outcomes by SOP Instance UID (or path, for files that were not DICOM). */
export class ReceiptBook {
  private readonly receipts = new Map<string, InstanceReceipt>()
  /** Instances stored, stored with a warning, or already stored. */
  delivered = 0

  constructor(readonly total: number) {}

  has(key: string): boolean {
    return this.receipts.has(key)
  }

  get(key: string): InstanceReceipt | undefined {
    return this.receipts.get(key)
  }

  get size(): number {
    return this.receipts.size
  }

  isDelivered(key: string): boolean {
    const receipt = this.receipts.get(key)
    return receipt !== undefined && DELIVERED.has(receipt.status)
  }

  /** Records an outcome; the first one stands unless `replace` (verification overturns a delivery). */
  settle(key: string, receipt: InstanceReceipt, replace = false): void {
    if (this.receipts.has(key) && !replace) return
    if (this.isDelivered(key)) this.delivered--
    this.receipts.set(key, receipt)
    if (DELIVERED.has(receipt.status)) this.delivered++
  }

  settleItem(item: SendItem, status: InstanceStatus, extra: Partial<Pick<InstanceReceipt, 'dimseStatus' | 'transferSyntaxUid' | 'note'>>): void {
    this.settle(item.sopInstanceUid, { sopInstanceUid: item.sopInstanceUid, sopClassUid: item.sopClassUid, path: item.path, status, ...extra })
  }
}

export function buildReceipt(
  options: ResolvedOptions,
  items: readonly SendItem[],
  problems: readonly IndexProblem[],
  book: ReceiptBook,
  rounds: number,
  verified: StoreReceipt['verified'] | undefined,
): StoreReceipt {
  const instances: InstanceReceipt[] = []
  for (const item of items) instances.push(book.get(item.sopInstanceUid) ?? failedReceiptMissing(item))
  for (const problem of problems) {
    const receipt = book.get(problem.path)
    if (receipt !== undefined) instances.push(receipt)
  }
  const count = (status: InstanceStatus): number => instances.filter((receipt) => receipt.status === status).length
  return {
    destination: { host: options.host, port: options.port, calledAet: options.calledAet, callingAet: options.callingAet, tls: options.tls !== undefined },
    transport: options.transport,
    total: instances.length,
    stored: count('stored'),
    warnings: count('warning'),
    alreadyStored: count('already-stored'),
    failed: count('failed'),
    rounds,
    ...(verified === undefined ? {} : { verified }),
    instances,
  }
}

// Unreachable while the send loop settles every item; kept so that a bug shows as a failure, not a success.
function failedReceiptMissing(item: SendItem): InstanceReceipt {
  return {
    sopInstanceUid: item.sopInstanceUid,
    sopClassUid: item.sopClassUid,
    path: item.path,
    status: 'failed',
    error: { name: 'PacsflowError', code: 'STORE_NO_RESPONSE', message: `no outcome was recorded for ${item.sopInstanceUid}`, retryable: true },
  }
}
