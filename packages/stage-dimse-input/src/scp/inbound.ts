// The incoming side of one association: C-STORE data sets stream from our PDU reader into the spool; every other message goes to dcmjs-dimse.
import type { Logger } from '@pacsflow/core'
import { encodeStoreResponse, parseCommandSet, singlePdvPdu, type CommandSet } from '../dimse/command-set.js'
import { CommandField, Status } from '../dimse/constants.js'
import type { DimseNetwork } from '../dimse/facade.js'
import { PduStream } from '../dimse/pdu-stream.js'
import type { ReceiverSpool } from '../spool-port.js'
import type { PreparedFiles } from './prepared-files.js'
import type { IncomingConnection } from './socket-reads.js'
import type { ScpStats, StoreEvent } from './stats.js'
import { StoreOperation, type StoreOutcome } from './store-operation.js'

/** Command sets are a few hundred bytes; a peer that sends more is not speaking DIMSE. */
const MAX_COMMAND_BYTES = 64 * 1024
/** Data sets of messages handed to dcmjs-dimse (C-FIND identifiers, C-GET responses) are small too. */
const MAX_PASSTHROUGH_BYTES = 4 * 1024 * 1024

/** An accepted presentation context: what C-STOREs on it may carry, and their encoding. */
export interface AcceptedContext {
  readonly abstractSyntaxUid: string
  readonly transferSyntaxUid: string
}

export interface InboundSettings {
  readonly network: DimseNetwork
  /** The connection: its bytes come to us, and answers go out on its socket. */
  readonly connection: IncomingConnection
  readonly spool: ReceiverSpool
  /** Incoming files made ready in advance, shared by the receiver's connections (none: each C-STORE creates its own). */
  readonly prepared?: PreparedFiles | undefined
  readonly log: Logger
  readonly stats: ScpStats
  readonly onStore: ((event: StoreEvent) => void) | undefined
  /** The peer's AE title and address, once known (provenance, meta group, logs). */
  readonly peer: () => { readonly callingAet: string; readonly peerAddress: string } | undefined
  /** Accepted contexts by ID; undefined before the association is established. */
  readonly contexts: () => ReadonlyMap<number, AcceptedContext> | undefined
  /** The peer broke the protocol: abort the association. */
  readonly onProtocolError: (message: string) => void
  /** A C-STORE was answered and nothing else is in flight (lets a closing connection finish). */
  readonly onIdle: () => void
}

interface Request {
  readonly messageId: number
  readonly sopClassUid: string
  readonly sopInstanceUid: string
}

/** A C-STORE refused before anything is written: its data set is read and dropped, then the status is answered. */
class Refused {
  private bytes = 0
  constructor(
    readonly request: Request,
    private readonly outcome: { status: number; errorComment: string },
  ) {}
  write(bytes: Buffer): void {
    this.bytes += bytes.length
  }
  end(): Promise<StoreOutcome> {
    return Promise.resolve({ ...this.outcome, bytes: this.bytes })
  }
  abort(): Promise<void> {
    return Promise.resolve()
  }
}

type Receiving =
  | { readonly kind: 'store'; readonly op: StoreOperation | Refused; readonly pcId: number }
  | { readonly kind: 'passthrough'; readonly pcId: number; parts: Buffer[]; size: number }

export class InboundMessages {
  private readonly reader: PduStream
  private command: Buffer[] = []
  private commandSize = 0
  private receiving: Receiving | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly settings: InboundSettings) {
    const { network, connection } = settings
    this.reader = new PduStream({
      onControlPdu: (pdu) => void network._processPdu(pdu),
      onPdvData: (pcId, isCommand, last, bytes, pdvEnd) => this.onPdv(pcId, isCommand, last, bytes, pdvEnd),
      onProtocolError: (message) => settings.onProtocolError(message),
    })
    // dcmjs-dimse's own reader would assemble every PDU, and each C-STORE data set, in memory.
    connection.socket.removeAllListeners('data')
    connection.startReading((chunk) => {
      if (this.stopped) return
      network.lastPduTime = Date.now()
      settings.stats.bytesReceived += chunk.length
      try {
        this.reader.push(chunk)
      } catch (error) {
        // A fault on one connection must not take the receiver down with it.
        settings.log.error({ err: error }, 'unexpected error reading a DICOM connection')
        this.stopped = true
        settings.onProtocolError(`internal error: ${(error as Error).message}`)
      }
    })
  }

  /** No message half-received and no C-STORE waiting for its commit or response. */
  get idle(): boolean {
    return this.inFlight.size === 0 && this.receiving === undefined && this.commandSize === 0
  }

  /** Resolves once every C-STORE in flight has been answered (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight])
  }

  /**
   * We ended the association (A-ABORT, A-RELEASE-RP, A-ASSOCIATE-RJ): whatever the peer sent
   * after it is ignored, and a C-STORE still arriving is dropped (its partial file removed, never
   * committed, never answered), so that nothing is stored that its sender was not told about.
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    void this.abort()
  }

  /** The connection ended: a C-STORE still arriving is dropped (its partial file removed, never committed). */
  async abort(): Promise<void> {
    const receiving = this.receiving
    this.receiving = undefined
    if (receiving?.kind === 'store') await receiving.op.abort()
    await this.settled()
  }

  private onPdv(pcId: number, isCommand: boolean, last: boolean, bytes: Buffer, pdvEnd: boolean): void {
    if (this.settings.contexts() === undefined) return this.settings.onProtocolError('P-DATA-TF before the association was established')
    if (isCommand) {
      if (this.receiving !== undefined) return this.settings.onProtocolError('a command fragment while a data set was expected')
      this.commandSize += bytes.length
      if (this.commandSize > MAX_COMMAND_BYTES) return this.settings.onProtocolError(`a command set over ${MAX_COMMAND_BYTES} bytes`)
      if (bytes.length > 0) this.command.push(Buffer.from(bytes))
      if (pdvEnd && last) this.onCommand(pcId, Buffer.concat(this.command))
      return
    }
    const receiving = this.receiving
    if (receiving === undefined || receiving.pcId !== pcId) return this.settings.onProtocolError('a data fragment without a command that announced it')
    if (receiving.kind === 'store') receiving.op.write(bytes)
    else {
      receiving.size += bytes.length
      if (receiving.size > MAX_PASSTHROUGH_BYTES) return this.settings.onProtocolError(`a ${receiving.size}-byte data set for a command other than C-STORE`)
      receiving.parts.push(Buffer.from(bytes))
    }
    if (!(pdvEnd && last)) return
    this.receiving = undefined
    if (receiving.kind === 'store') this.track(() => this.finishStore(receiving.op, receiving.pcId))
    else this.handToDimse(singlePdvPdu(pcId, false, Buffer.concat(receiving.parts)))
  }

  private onCommand(pcId: number, bytes: Buffer): void {
    this.command = []
    this.commandSize = 0
    let command: CommandSet
    try {
      command = parseCommandSet(bytes)
    } catch (error) {
      return this.settings.onProtocolError((error as Error).message)
    }
    if (command.commandField === CommandField.CStoreRq) return this.startStore(pcId, command)
    // Everything else (C-ECHO, C-FIND/C-MOVE/C-GET responses, what a peer sends on a context we did not accept) goes to dcmjs-dimse whole.
    this.handToDimse(singlePdvPdu(pcId, true, bytes))
    if (command.hasDataSet) this.receiving = { kind: 'passthrough', pcId, parts: [], size: 0 }
  }

  private handToDimse(pdu: Buffer): void {
    const { network } = this.settings
    // dcmjs-dimse 0.3.3 keeps a data-set-less command's buffer and prepends it to the next command.
    if (network.dimse === undefined) network.dimseStream = undefined
    void network._processPdu(pdu)
  }

  private startStore(pcId: number, command: CommandSet): void {
    const context = this.settings.contexts()?.get(pcId)
    const peer = this.settings.peer()
    const request: Request = { messageId: command.messageId, sopClassUid: command.affectedSopClassUid ?? '', sopInstanceUid: command.affectedSopInstanceUid ?? '' }
    let op: StoreOperation | Refused
    if (!command.hasDataSet) {
      op = new Refused(request, { status: Status.CannotUnderstand, errorComment: 'a C-STORE-RQ without a data set' })
      return this.track(() => this.finishStore(op, pcId))
    }
    if (context === undefined || context.abstractSyntaxUid !== request.sopClassUid) {
      op = new Refused(request, { status: Status.SopClassNotSupported, errorComment: `no accepted presentation context ${pcId} for ${request.sopClassUid}` })
    } else {
      const callingAet = peer?.callingAet ?? ''
      op = new StoreOperation(
        {
          ...request,
          transferSyntaxUid: context.transferSyntaxUid,
          callingAet,
          provenance: { source: 'dimse', origin: `${callingAet}@${peer?.peerAddress ?? ''}` },
        },
        {
          spool: this.settings.spool,
          log: this.settings.log,
          ...(this.settings.prepared === undefined ? {} : { prepared: this.settings.prepared }),
          // One sender waits for each answer: fsync inline. Several: in the thread pool, while the event loop reads the others.
          flushInline: () => this.settings.stats.activeAssociations <= 1,
        },
      )
    }
    this.receiving = { kind: 'store', op, pcId }
  }

  /**
   * Answers a C-STORE once its operation says how, then reports it (stats, log, onStore) with what
   * the spool made of it: for a sealed object, once it is placed, after the answer (the association
   * is released only once that is done too: see `settled`).
   */
  private async finishStore(op: StoreOperation | Refused, pcId: number): Promise<void> {
    const outcome = await op.end()
    const { request } = op
    const { socket } = this.settings.connection
    if (!socket.destroyed && !socket.writableEnded) {
      const response = encodeStoreResponse({
        messageId: request.messageId,
        status: outcome.status,
        ...(request.sopClassUid === '' ? {} : { affectedSopClassUid: request.sopClassUid }),
        ...(request.sopInstanceUid === '' ? {} : { affectedSopInstanceUid: request.sopInstanceUid }),
        ...(outcome.errorComment === undefined ? {} : { errorComment: outcome.errorComment }),
      })
      socket.write(singlePdvPdu(pcId, true, response))
      this.settings.prepared?.replenish()
    }
    const commit = outcome.commit?.placed === undefined ? outcome.commit : await outcome.commit.placed
    const peer = this.settings.peer()
    const event: StoreEvent = {
      callingAet: peer?.callingAet ?? '',
      peerAddress: peer?.peerAddress ?? '',
      messageId: request.messageId,
      sopClassUid: request.sopClassUid,
      sopInstanceUid: request.sopInstanceUid,
      ...(op instanceof StoreOperation ? { transferSyntaxUid: op.request.transferSyntaxUid } : {}),
      status: outcome.status,
      ...(outcome.errorComment === undefined ? {} : { errorComment: outcome.errorComment }),
      ...(commit === undefined ? {} : { commit }),
      bytes: outcome.bytes,
    }
    this.settings.stats.record(event)
    const success = outcome.status === Status.Success
    this.settings.log[success ? 'debug' : 'warn'](
      { ...peer, sopInstanceUid: request.sopInstanceUid, status: `0x${outcome.status.toString(16).padStart(4, '0')}`, commit: commit?.status, comment: outcome.errorComment },
      success ? 'instance received' : 'instance refused',
    )
    this.settings.onStore?.(event)
  }

  /** Runs `work` as in flight: counted before any of it runs (a commit may close the receiver, which asks whether we are idle). */
  private track(work: () => Promise<void>): void {
    const tracked = Promise.resolve()
      .then(work)
      .catch((error: unknown) => this.settings.log.error({ err: error }, 'a C-STORE could not be finished'))
      .finally(() => {
        this.inFlight.delete(tracked)
        if (this.idle) this.settings.onIdle()
      })
    this.inFlight.add(tracked)
  }
}
