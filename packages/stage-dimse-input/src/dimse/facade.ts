// The typed facade over dcmjs-dimse 0.3 (CommonJS, loaded on first use): the only module that names its API and internals.
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'

export interface DimseDataset {
  getElement(name: string): unknown
}

export interface DimsePresentationContext {
  getPresentationContextId(): number
  getAbstractSyntaxUid(): string
  getTransferSyntaxUids(): string[]
  addTransferSyntaxUid(uid: string): void
  getAcceptedTransferSyntaxUid(): string | undefined
  getResult(): number
  /** Sets the result; on acceptance the context keeps only `acceptedTransferSyntaxUid`. */
  setResult(result: number, acceptedTransferSyntaxUid?: string): void
  setProviderRole(role: boolean): void
}

export interface DimseAssociation {
  getCallingAeTitle(): string
  getCalledAeTitle(): string
  /** The peer's maximum PDU length until we answer; then the one we announced. */
  getMaxPduLength(): number
  setMaxPduLength(length: number): void
  getPresentationContexts(): { id: number; context: DimsePresentationContext }[]
  getPresentationContext(id: number): DimsePresentationContext | undefined
  addPresentationContext(abstractSyntaxUid: string): number
  addTransferSyntaxToPresentationContext(id: number, transferSyntaxUid: string): void
  setNegotiateAsyncOps(negotiate: boolean): void
  setNegotiateUserIdentityServerResponse(negotiate: boolean): void
}

export interface DimseResponse {
  getStatus(): number
  getErrorComment(): string | undefined
  getDataset(): DimseDataset | undefined
  getCommandDataset(): DimseDataset
}

/** C-MOVE and C-GET responses carry sub-operation counts (PS3.7 C.4.2.1.5-6); absent ones are undefined. */
export interface DimseRetrieveResponse extends DimseResponse {
  getRemaining(): number | undefined
  getCompleted(): number | undefined
  getFailures(): number | undefined
  getWarnings(): number | undefined
}

export interface DimseRequest {
  getMessageId(): number
  getCommandDataset(): DimseDataset
  on(event: 'response', listener: (response: DimseResponse) => void): void
  on(event: 'done', listener: () => void): void
}

/**
 * The parts of dcmjs-dimse's Network (the base of Scp and of the Client's connection) that this
 * package drives. Its `_processPdu` takes one whole PDU; we call it for every PDU except the
 * P-DATA-TF of C-STORE requests, which we read ourselves (see inbound.ts). Pinned to 0.3.x in
 * package.json.
 */
export interface DimseNetwork {
  readonly socket: Socket
  association: DimseAssociation | undefined
  /** Set by the Server it replaces: the PDU timeout check runs only while this is true. */
  connected: boolean
  /** With `lastPduTime` undefined, the association timeout counts from here. */
  connectedTime: number | undefined
  /** The PDU timeout counts from here; we set it for every chunk read. */
  lastPduTime: number | undefined
  /** The buffer a command being received accumulates in; 0.3.3 keeps it after a command without a data set. */
  dimseStream: unknown
  /** The message dcmjs-dimse is receiving, between its command and its data set. */
  dimse: unknown
  _processPdu(pdu: Buffer): Promise<void>
  sendAssociationAccept(): void
  sendAssociationReject(result: number, source: number, reason: number): void
  sendAssociationReleaseResponse(): void
  sendAssociationReleaseRequest(): void
  sendAbort(source?: number, reason?: number): void
  on(event: 'close', listener: () => void): void
  on(event: 'networkError', listener: (error: Error) => void): void
  on(event: 'abort', listener: (abort: { source: number; reason: number }) => void): void
  on(event: 'associationRequested', listener: (association: DimseAssociation) => void): void
}

/** An Scp instance: a Network whose request handlers we replace per instance. */
export interface DimseScp extends DimseNetwork {
  associationRequested(association: DimseAssociation): void
  associationReleaseRequested(): void
  cEchoRequest(request: DimseRequest, callback: (response: unknown) => void): void
  abort(source: number, reason: number): void
}

export interface DimseClientNetwork extends DimseNetwork {
  /** Wrapped to add our storage contexts (with the SCP role) to a C-GET association. */
  sendAssociationRequest(association: DimseAssociation): void
}

export interface DimseClient {
  network: DimseClientNetwork | undefined
  addRequest(request: DimseRequest): void
  send(host: string, port: number, callingAet: string, calledAet: string, options: DimseConnectOptions): void
  abort(source?: number, reason?: number): void
  on(event: 'associationAccepted', listener: (association: DimseAssociation) => void): void
  on(event: 'associationRejected', listener: (reject: { result: number; source: number; reason: number }) => void): void
  on(event: 'networkError', listener: (error: Error) => void): void
  on(event: 'closed' | 'associationReleased', listener: () => void): void
}

export interface DimseSecurityOptions {
  readonly key?: Buffer
  readonly cert?: Buffer
  readonly ca?: Buffer
  readonly rejectUnauthorized?: boolean
}

export interface DimseConnectOptions {
  readonly connectTimeout: number
  readonly associationTimeout: number
  readonly pduTimeout: number
  readonly securityOptions?: DimseSecurityOptions
}

export interface DimseImplementation {
  getImplementationClassUid(): string
  setImplementationClassUid(uid: string): void
  getImplementationVersion(): string
  setImplementationVersion(version: string): void
  getMaxPduLength(): number
  setMaxPduLength(length: number): void
}

export interface DimseApi {
  readonly Scp: new (socket: Socket, options: DimseConnectOptions) => DimseScp
  readonly Client: new () => DimseClient
  readonly Implementation: DimseImplementation
  readonly requests: {
    readonly CFindRequest: {
      createStudyFindRequest(elements: Record<string, unknown>): DimseRequest
      createSeriesFindRequest(elements: Record<string, unknown>): DimseRequest
    }
    readonly CMoveRequest: { createStudyMoveRequest(destinationAet: string, studyInstanceUid: string): DimseRequest }
    /** Its requests add dcmjs-dimse's storage SOP classes to the association, with the SCP role. */
    readonly CGetRequest: { createStudyGetRequest(studyInstanceUid: string): DimseRequest }
  }
  readonly responses: {
    readonly CEchoResponse: new (status: number, errorComment?: string) => { setMessageIdBeingRespondedTo(id: number): void }
  }
  readonly log: { setLevel(level: 'silent'): void }
}

let loaded: DimseApi | undefined

interface LevelledLog {
  setLevel(level: 'silent'): void
  getLogger(name: string): LevelledLog
}

/** dcmjs-dimse, loaded on first use (it loads dcmjs, ~50 ms), with its console logging silenced. */
export function dimse(): DimseApi {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url)
    loaded = require('dcmjs-dimse') as DimseApi
    // Its loglevel logger writes every PDU to the console by default, and dcmjs warns about
    // private tags; this package logs through the caller's logger only.
    loaded.log.setLevel('silent')
    const dcmjsLog = (createRequire(require.resolve('dcmjs-dimse'))('dcmjs') as { log: LevelledLog }).log
    dcmjsLog.setLevel('silent')
    dcmjsLog.getLogger('validation.dcmjs').setLevel('silent')
    shortenAssociationDump(loaded)
  }
  return loaded
}

interface AssociationPrototype {
  toString(): string
  getCallingAeTitle(): string
  getCalledAeTitle(): string
  getPresentationContexts(): unknown[]
}

/**
 * dcmjs-dimse builds a log line from `association.toString()` when it reads an A-ASSOCIATE-RQ and
 * when it writes the AC, whatever its log level: a dump of every proposed presentation context
 * with each UID's name looked up, 2-3 ms of the event loop per association in a CPU profile (a
 * storescu proposes over a hundred contexts), for a line that is never written. The dump becomes
 * a one-line summary, for dcmjs-dimse's other users in the process too.
 */
function shortenAssociationDump(api: DimseApi): void {
  const prototype = (api as unknown as { association?: { Association?: { prototype?: AssociationPrototype } } }).association?.Association?.prototype
  if (prototype === undefined || typeof prototype.getPresentationContexts !== 'function') return
  prototype.toString = function (this: AssociationPrototype): string {
    return `association ${this.getCallingAeTitle()} -> ${this.getCalledAeTitle()}, ${this.getPresentationContexts().length} presentation contexts`
  }
}

/**
 * Runs `fn` with dcmjs-dimse's process-wide Implementation values (class UID, version name,
 * maximum PDU length) set to ours, and restores them: an A-ASSOCIATE-AC is written from them,
 * and another pacsflow package (or the site's own code) may use dcmjs-dimse in the same process.
 */
export function withImplementation<T>(identity: { classUid: string; versionName: string; maxPduLength: number }, fn: () => T): T {
  const { Implementation } = dimse()
  const saved = [Implementation.getImplementationClassUid(), Implementation.getImplementationVersion(), Implementation.getMaxPduLength()] as const
  Implementation.setImplementationClassUid(identity.classUid)
  Implementation.setImplementationVersion(identity.versionName)
  Implementation.setMaxPduLength(identity.maxPduLength)
  try {
    return fn()
  } finally {
    Implementation.setImplementationClassUid(saved[0])
    Implementation.setImplementationVersion(saved[1])
    Implementation.setMaxPduLength(saved[2])
  }
}
