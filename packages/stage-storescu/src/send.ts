// The send loop: skip what the outbox holds, send the rest in rounds with backoff, verify, and write the receipt.
import { backoffDelay, PacsflowError, silentLogger, sleep, type Logger } from '@pacsflow/core'
import { dcmtkTransport } from './dcmtk/transport.js'
import { findInstances, type SeriesKey } from './dimse/find.js'
import type { PeerOptions } from './dimse/session.js'
import { dimseTransport } from './dimse/transport.js'
import { resolveInput, type SendItem } from './input.js'
import { peerOf, resolveOptions, type ResolvedOptions } from './options.js'
import { Outbox, outboxFileName } from './outbox.js'
import { buildReceipt, failedReceipt, ReceiptBook } from './receipt.js'
import type { ItemResult, Transport } from './transport.js'
import type { StorescuInput, StorescuOptions, StoreReceipt } from './types.js'

/** Where and how one send runs: the outbox folder (a job's workDir), cancellation, logs, progress. */
export interface SendContext {
  /** The folder of the outbox journal; a later send with the same folder skips what it records. */
  readonly outboxDir: string
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly progress?: (fraction: number, note?: string) => void
}

interface Run {
  readonly options: ResolvedOptions
  readonly peer: PeerOptions
  readonly outbox: Outbox
  readonly book: ReceiptBook
  readonly signal: AbortSignal
  readonly log: Logger
  readonly progress: (fraction: number, note?: string) => void
}

/**
 * Sends `input` to the PACS and returns the receipt; never throws for an instance that failed
 * (the receipt says which and why), only for bad options, ABORTED, or a failed verification query.
 */
export async function sendToPacs(input: StorescuInput, options: StorescuOptions, context: SendContext): Promise<StoreReceipt> {
  return sendResolved(input, resolveOptions(options), context)
}

export async function sendResolved(input: StorescuInput, options: ResolvedOptions, context: SendContext): Promise<StoreReceipt> {
  const log = context.log ?? silentLogger
  const signal = context.signal ?? new AbortController().signal
  const { items, problems } = await resolveInput(input, signal, log)
  const outbox = await Outbox.open(context.outboxDir, outboxFileName(options.host, options.port, options.calledAet))
  const book = new ReceiptBook(items.length + problems.length)
  const run: Run = { options, peer: await peerOf(options), outbox, book, signal, log, progress: context.progress ?? (() => {}) }
  try {
    for (const problem of problems) book.settle(problem.path, failedReceipt({ path: problem.path, sopInstanceUid: '', sopClassUid: '' }, problem.error))
    const pending = await skipDelivered(run, items)
    const rounds = await sendInRounds(run, pending)
    const verified = options.verify ? await verify(run, items) : undefined
    const receipt = buildReceipt(options, items, problems, book, rounds, verified)
    log.info({ stored: receipt.stored, alreadyStored: receipt.alreadyStored, warnings: receipt.warnings, failed: receipt.failed, rounds }, 'send finished')
    return receipt
  } finally {
    await outbox.close()
  }
}

/** Drops what the outbox records as acknowledged, and asks the PACS about sends a crash left unknown. */
async function skipDelivered(run: Run, items: readonly SendItem[]): Promise<SendItem[]> {
  const uncertain: SendItem[] = []
  for (const item of items) {
    if (run.outbox.isAcknowledged(item.sopInstanceUid)) run.book.settleItem(item, 'already-stored', { note: 'acknowledged by the PACS in an earlier run' })
    else if (run.outbox.isUncertain(item.sopInstanceUid)) uncertain.push(item)
  }
  if (uncertain.length > 0) await confirmUncertain(run, uncertain)
  const pending = items.filter((item) => !run.book.has(item.sopInstanceUid))
  if (pending.length < items.length) run.log.info({ skipped: items.length - pending.length, pending: pending.length }, 'outbox: skipping instances the PACS already holds')
  return pending
}

/**
 * An instance whose send began but whose response was never recorded may or may not be on the
 * PACS. Ask (C-FIND); found ones are recorded as acknowledged, the rest are sent again. A PACS
 * without Query/Retrieve gets them again, which a PACS treats as the same instance.
 */
async function confirmUncertain(run: Run, uncertain: readonly SendItem[]): Promise<void> {
  let found: Set<string>
  try {
    found = await findInstances(run.peer, seriesKeys(uncertain), run.signal)
  } catch (error) {
    if (run.signal.aborted) throw error
    run.log.info({ count: uncertain.length, err: error }, 'cannot ask the PACS about sends a crash interrupted; sending them again')
    return
  }
  for (const item of uncertain) {
    if (!found.has(item.sopInstanceUid)) continue
    run.outbox.recordAck(item.sopInstanceUid, 0x0000, 'c-find')
    run.book.settleItem(item, 'already-stored', { note: 'its send was interrupted; C-FIND found it on the PACS' })
  }
}

function seriesKeys(items: readonly SendItem[]): SeriesKey[] {
  const keys = new Map<string, SeriesKey>()
  for (const item of items) keys.set(`${item.studyInstanceUid}/${item.seriesInstanceUid}`, item)
  return [...keys.values()].map(({ studyInstanceUid, seriesInstanceUid }) => ({ studyInstanceUid, seriesInstanceUid }))
}

function transportOf(run: Run): Transport {
  const { options, log } = run
  if (options.transport === 'dcmtk') {
    const { storescuPath: executable, host, port, callingAet, calledAet, timeoutMs, tls } = options
    return dcmtkTransport({ executable, host, port, callingAet, calledAet, timeoutMs, tls }, log)
  }
  return dimseTransport(run.peer, options.maxAssociations, log)
}

/** Records one outcome in the outbox and the receipt book. */
function onResult(run: Run, item: SendItem, result: ItemResult, retryLater: Map<string, PacsflowError>): void {
  const sop = item.sopInstanceUid
  if (result.kind === 'stored') {
    run.outbox.recordAck(sop, result.status, 'c-store')
    const warning = result.status !== 0x0000
    if (warning) run.log.warn({ sopInstanceUid: sop, status: result.status, note: result.comment }, 'stored with a warning')
    run.book.settleItem(item, warning ? 'warning' : 'stored', {
      dimseStatus: result.status,
      ...(result.transferSyntaxUid === undefined ? {} : { transferSyntaxUid: result.transferSyntaxUid }),
      ...(result.comment === undefined ? {} : { note: result.comment }),
    })
  } else {
    // A response that refused it settles the outcome: nothing is uncertain about this instance.
    if (result.status !== undefined) run.outbox.recordNotStored(sop)
    if (result.error.retryable) retryLater.set(sop, result.error)
    else run.book.settle(sop, failedReceipt(item, result.error, result.status))
  }
  run.progress(run.book.size / run.book.total, `${run.book.size}/${run.book.total} instances`)
}

/** Sends in rounds until everything has an outcome; a round that stores nothing uses up one attempt. */
async function sendInRounds(run: Run, items: readonly SendItem[]): Promise<number> {
  const transport = transportOf(run)
  const retryLater = new Map<string, PacsflowError>()
  const hooks = { intent: (item: SendItem) => run.outbox.recordIntent(item.sopInstanceUid), result: (item: SendItem, result: ItemResult) => onResult(run, item, result, retryLater) }
  let remaining = items
  let rounds = 0
  for (let attempt = 1; remaining.length > 0; attempt++) {
    rounds++
    const settledBefore = run.book.delivered
    retryLater.clear()
    const stopped = await transport.send(remaining, hooks, run.signal)
    if (run.signal.aborted) throw new PacsflowError('ABORTED', 'sending was aborted; the outbox keeps what the PACS acknowledged', { cause: run.signal.reason })
    remaining = remaining.filter((item) => !run.book.has(item.sopInstanceUid))
    if (remaining.length === 0) break
    if (run.book.delivered > settledBefore) attempt = 1
    const reasonOf = (item: SendItem): PacsflowError => retryLater.get(item.sopInstanceUid) ?? stopped ?? noResponse(item)
    if (attempt >= run.options.retry.maxAttempts) {
      for (const item of remaining) run.book.settle(item.sopInstanceUid, failedReceipt(item, reasonOf(item)))
      break
    }
    const delayMs = backoffDelay(run.options.retry, attempt)
    const first = remaining[0] as SendItem
    run.log.warn({ round: rounds, remaining: remaining.length, delayMs, err: reasonOf(first) }, `retrying ${remaining.length} instance(s) in ${delayMs} ms`)
    await sleep(delayMs, run.signal)
  }
  return rounds
}

function noResponse(item: SendItem): PacsflowError {
  return new PacsflowError('STORE_NO_RESPONSE', `no response for ${item.sopInstanceUid} (${item.path})`, { retryable: true })
}

/** C-FIND at IMAGE level for every series sent: what the PACS lacks is failed and forgotten by the outbox. */
async function verify(run: Run, items: readonly SendItem[]): Promise<{ confirmed: number; missing: string[] }> {
  const delivered = items.filter((item) => run.book.isDelivered(item.sopInstanceUid))
  const found = await findInstances(run.peer, seriesKeys(delivered), run.signal)
  const missing: string[] = []
  for (const item of delivered) {
    if (found.has(item.sopInstanceUid)) continue
    missing.push(item.sopInstanceUid)
    run.outbox.recordRetract(item.sopInstanceUid)
    const error = new PacsflowError('STORE_VERIFY_FAILED', `the PACS acknowledged ${item.sopInstanceUid} (${item.path}) but a C-FIND does not find it`, {
      retryable: true,
      details: { sopInstanceUid: item.sopInstanceUid, path: item.path },
    })
    run.book.settle(item.sopInstanceUid, failedReceipt(item, error), true)
  }
  if (missing.length > 0) run.log.error({ missing: missing.length }, 'verification: the PACS lacks instances it acknowledged')
  return { confirmed: delivered.length - missing.length, missing }
}

