// The typed facade over dcmjs-dimse (CommonJS, loaded on first use): the only module that names its API and internals.
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'

export interface DimseDataset {
  getElement(tag: string): unknown
  getTransferSyntaxUid(): string
}

export interface DimseCommand {
  getCommandDataset(): DimseDataset
  getDataset(): DimseDataset | undefined
  toString(options?: object): string
}

export interface DimseResponse extends DimseCommand {
  getStatus(): number
  getErrorComment(): string | undefined
  hasDataset(): boolean
}

export interface DimseRequest extends DimseCommand {
  setMessageId(id: number): void
  getMessageId(): number
  on(event: 'response', listener: (response: DimseResponse) => void): void
  on(event: 'done', listener: () => void): void
}

export interface DimsePresentationContext {
  getPresentationContextId(): number
  getAbstractSyntaxUid(): string
  getAcceptedTransferSyntaxUid(): string | undefined
  getResult(): number
  addTransferSyntaxUid(uid: string): void
}

export interface DimseAssociation {
  getMaxPduLength(): number
  getPresentationContexts(): { id: number; context: DimsePresentationContext }[]
}

/** What dcmjs-dimse's 'associationRejected' carries: the A-ASSOCIATE-RJ fields (PS3.8 9.3.4). */
export interface DimseReject {
  readonly result: number
  readonly source: number
  readonly reason: number
}

/**
 * The parts of dcmjs-dimse 0.3's Network (not exported; reached as `client.network`) that this
 * package drives: its socket, its table of requests awaiting responses (matched by message id
 * when a response arrives), and its command writer. Pinned to 0.3.x in package.json.
 */
export interface DimseNetwork {
  readonly socket: Socket
  readonly pending: DimseRequest[]
  /** The buffer a command being received accumulates in (see DimseSession.exchange). */
  dimseStream: unknown
  /** The message being received, between its command and its data set. */
  readonly dimse: unknown
  /** Handles one whole PDU from the peer (called by dcmjs-dimse's PDU accumulator through `this`). */
  _processPdu(pdu: Buffer): Promise<void>
  association: DimseAssociation
  sendRequests(requests: unknown): void
  sendAssociationReleaseRequest(): void
  sendAbort(source?: number, reason?: number): void
  /** A-ABORT from the peer: dcmjs-dimse emits it here but neither closes the socket nor tells the client. */
  on(event: 'abort', listener: (abort: { source: number; reason: number }) => void): void
  _getNextMessageId(): number
  _sendPDataTF(command: DimseCommand, presentationContextId: number, maxPduLength: number): void
}

export interface DimseSendOptions {
  readonly connectTimeout: number
  readonly associationTimeout: number
  readonly pduTimeout: number
  readonly securityOptions?: {
    readonly ca?: Buffer
    readonly cert?: Buffer
    readonly key?: Buffer
    readonly rejectUnauthorized?: boolean
  }
}

export interface DimseClient {
  network: DimseNetwork | undefined
  addRequest(request: DimseRequest): void
  addAdditionalPresentationContext(context: DimsePresentationContext, addAsNew?: boolean): void
  send(host: string, port: number, callingAet: string, calledAet: string, options: DimseSendOptions): void
  on(event: 'associationAccepted', listener: (association: DimseAssociation) => void): void
  on(event: 'associationRejected', listener: (reject: DimseReject) => void): void
  on(event: 'networkError', listener: (error: Error) => void): void
  on(event: 'closed' | 'associationReleased' | 'connected', listener: () => void): void
}

export interface DimseApi {
  readonly Client: new () => DimseClient
  readonly Dataset: {
    new (elementsOrEncoded: Record<string, unknown> | Buffer, transferSyntaxUid?: string): DimseDataset
    fromFile(path: string): DimseDataset
  }
  readonly Transcoding: {
    initializeAsync(): Promise<void>
    isInitialized(): boolean
    transcodeDataset(dataset: DimseDataset, transferSyntaxUid: string): DimseDataset
  }
  readonly association: {
    readonly PresentationContext: new (pcId: number, abstractSyntaxUid: string) => DimsePresentationContext
  }
  readonly requests: {
    readonly CStoreRequest: new (dataset: DimseDataset) => DimseRequest
    readonly CEchoRequest: new () => DimseRequest
    readonly CFindRequest: { createImageFindRequest(elements: Record<string, unknown>): DimseRequest }
  }
  readonly log: { setLevel(level: 'silent'): void }
}

/** PS3.8 9.3.3.2: presentation context result 0 is acceptance. */
export const PC_ACCEPTED = 0
/** PS3.7 C.4.1.1.1: a C-FIND response that carries a match. */
export const STATUS_PENDING = 0xff00
export const STATUS_PENDING_WARNING = 0xff01

let loaded: DimseApi | undefined

/** dcmjs-dimse, loaded on first use (it loads dcmjs, ~50 ms), with its console logging silenced. */
export function dimse(): DimseApi {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url)
    loaded = require('dcmjs-dimse') as DimseApi
    // Its loglevel logger writes every PDU to the console by default, and dcmjs (which it loads)
    // warns about every private tag while encoding a data set, even after the call returns;
    // stages log through ctx.log only, so both are silenced for good.
    loaded.log.setLevel('silent')
    const dcmjsLog = (createRequire(require.resolve('dcmjs-dimse'))('dcmjs') as { log: LevelledLog }).log
    dcmjsLog.setLevel('silent')
    // A named logger keeps the level it had when created, so it is silenced on its own.
    dcmjsLog.getLogger('validation.dcmjs').setLevel('silent')
  }
  return loaded
}

interface LevelledLog {
  setLevel(level: 'silent'): void
  getLogger(name: string): LevelledLog
}

