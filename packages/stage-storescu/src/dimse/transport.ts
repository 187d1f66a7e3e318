// transport 'dimse': C-STORE over dcmjs-dimse, files streamed as they are, several associations sharing one queue.
import type { Logger } from '@pacsflow/core'
import { PacsflowError } from '@pacsflow/core'
import type { SendItem } from '../input.js'
import { asStoreError, resultFromStatus, type Transport, type TransportHooks } from '../transport.js'
import { encodeCStoreRq, writeCommandPdu } from './command.js'
import { chooseContext, proposeContexts, splitForContexts, type ContextChoice, type ProposedContext } from './contexts.js'
import { dimse, type DimseRequest } from './facade.js'
import { PayloadReader, type Payload } from './payload.js'
import { drained, maxPdvDataLength, streamDataPdus, writeDataPdus } from './pdata.js'
import { DimseSession, type PeerOptions } from './session.js'

/** The items of one round, taken one at a time by however many associations are open. */
class ItemQueue {
  private next = 0
  private readonly returned: SendItem[] = []
  constructor(private readonly items: readonly SendItem[]) {}
  take(): SendItem | undefined {
    return this.returned.pop() ?? this.items[this.next++]
  }
  /** An item taken but never started (its association failed): another association may send it. */
  giveBack(item: SendItem): void {
    this.returned.push(item)
  }
  get empty(): boolean {
    return this.returned.length === 0 && this.next >= this.items.length
  }
}

type Loaded = { readonly payload: Payload } | { readonly item: SendItem; readonly error: PacsflowError }

async function takeAndLoad(queue: ItemQueue, reader: PayloadReader): Promise<Loaded | undefined> {
  const item = queue.take()
  if (item === undefined) return undefined
  try {
    return { payload: await reader.load(item) }
  } catch (error) {
    return { item, error: asStoreError(error) }
  }
}

let codecsReady: Promise<void> | undefined
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'])

/** The instance re-encoded in the accepted syntax (dcmjs-dimse's transcoder; codecs only when compressed data is involved). */
async function transcodedRequest(payload: Payload, choice: ContextChoice): Promise<DimseRequest> {
  const { Dataset, Transcoding, requests } = dimse()
  try {
    const source = payload.meta.transferSyntaxUid
    if (!NATIVE_SYNTAXES.has(source) || !NATIVE_SYNTAXES.has(choice.transferSyntaxUid)) {
      codecsReady ??= Transcoding.isInitialized() ? Promise.resolve() : Transcoding.initializeAsync()
      await codecsReady
    }
    return new requests.CStoreRequest(Transcoding.transcodeDataset(Dataset.fromFile(payload.item.path), choice.transferSyntaxUid))
  } catch (error) {
    throw new PacsflowError(
      'STORE_TRANSCODE_FAILED',
      `${payload.item.path} could not be converted from ${payload.meta.transferSyntaxUid} to ${choice.transferSyntaxUid}: ${(error as Error).message}`,
      { cause: error, details: { path: payload.item.path, from: payload.meta.transferSyntaxUid, to: choice.transferSyntaxUid } },
    )
  }
}

/** Sends one instance and reports its outcome; throws only what ends the association. */
async function storeOne(session: DimseSession, payload: Payload, hooks: TransportHooks, signal: AbortSignal): Promise<void> {
  const item = { ...payload.item, transferSyntaxUid: payload.meta.transferSyntaxUid }
  const choice = chooseContext(session.association, item)
  if (choice === undefined) {
    const error = new PacsflowError('STORE_SOP_CLASS_REFUSED', `the PACS accepted no presentation context for SOP class ${item.sopClassUid} (${item.path})`, {
      details: { sopClassUid: item.sopClassUid, transferSyntaxUid: item.transferSyntaxUid, path: item.path },
    })
    hooks.result(payload.item, { kind: 'failed', error })
    return
  }
  let request: DimseRequest
  let write: ((messageId: number) => Promise<void>) | undefined
  if (choice.raw) {
    const { Dataset, requests } = dimse()
    // The request object only lets dcmjs-dimse match the response to it; we write the bytes.
    request = new requests.CStoreRequest(new Dataset({ SOPClassUID: item.sopClassUid, SOPInstanceUID: item.sopInstanceUid }, item.transferSyntaxUid))
    write = (messageId) => {
      writeCommandPdu(session.socket, choice.presentationContextId, encodeCStoreRq(messageId, item.sopClassUid, item.sopInstanceUid))
      return writeDataset(session, payload, choice.presentationContextId, signal)
    }
  } else {
    try {
      request = await transcodedRequest(payload, choice)
    } catch (error) {
      hooks.result(payload.item, { kind: 'failed', error: asStoreError(error), transferSyntaxUid: choice.transferSyntaxUid })
      return
    }
  }
  hooks.intent(payload.item)
  const response = await session.exchange(request, choice.presentationContextId, write, signal)
  hooks.result(payload.item, resultFromStatus(item, response.status, response.errorComment, choice.transferSyntaxUid))
}

/** The file's data set bytes, as they are on disk, as P-DATA-TF PDUs. */
async function writeDataset(session: DimseSession, payload: Payload, pcId: number, signal: AbortSignal): Promise<void> {
  const maxPdv = maxPdvDataLength(session.association.getMaxPduLength())
  if (payload.body !== undefined) {
    if (!writeDataPdus(session.socket, pcId, payload.body, maxPdv, true)) await drained(session.socket, signal)
  } else if (payload.file !== undefined) {
    await streamDataPdus(session.socket, pcId, payload.file, payload.meta.datasetOffset, payload.datasetLength, maxPdv, signal)
  }
}

/** One association: takes items until the queue is empty, reading the next file while the current one is on the wire. */
async function runAssociation(
  peer: PeerOptions,
  contexts: readonly ProposedContext[],
  queue: ItemQueue,
  hooks: TransportHooks,
  signal: AbortSignal,
  log: Logger,
): Promise<PacsflowError | undefined> {
  if (queue.empty) return undefined
  let session: DimseSession
  try {
    session = await DimseSession.open(peer, contexts, signal, log)
  } catch (error) {
    return asStoreError(error)
  }
  const reader = new PayloadReader()
  let upcoming: Loaded | undefined
  try {
    upcoming = await takeAndLoad(queue, reader)
    while (upcoming !== undefined) {
      const current = upcoming
      upcoming = undefined
      if ('error' in current) {
        hooks.result(current.item, { kind: 'failed', error: current.error })
        upcoming = await takeAndLoad(queue, reader)
        continue
      }
      // storeOne queues every byte before its first wait, so the next read overlaps the transfer.
      const sending = storeOne(session, current.payload, hooks, signal)
      sending.catch(() => {})
      upcoming = await takeAndLoad(queue, reader)
      try {
        await sending
      } finally {
        await current.payload.close()
      }
    }
    await session.release()
    return undefined
  } catch (error) {
    session.abort()
    if (upcoming !== undefined) {
      queue.giveBack('payload' in upcoming ? upcoming.payload.item : upcoming.item)
      if ('payload' in upcoming) await upcoming.payload.close()
    }
    return asStoreError(error)
  }
}

/** The in-process transport: `maxAssociations` associations per batch of files, dcmjs-dimse underneath. */
export function dimseTransport(peer: PeerOptions, maxAssociations: number, log: Logger): Transport {
  return {
    async send(items, hooks, signal) {
      let firstError: PacsflowError | undefined
      for (const group of splitForContexts(items)) {
        const contexts = proposeContexts(group)
        const queue = new ItemQueue(group)
        const count = Math.min(maxAssociations, group.length)
        const errors = await Promise.all(Array.from({ length: count }, () => runAssociation(peer, contexts, queue, hooks, signal, log)))
        firstError ??= errors.find((error) => error !== undefined)
        if (signal.aborted) break
      }
      return firstError
    },
  }
}
