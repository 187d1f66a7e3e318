// One connection to the receiver: dcmjs-dimse negotiates and answers C-ECHO under our checks; C-STOREs go through InboundMessages.
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { Logger } from '@pacsflow/core'
import { AbortReason, AbortSource, ContextResult, RejectReason, RejectResult, RejectSource, Status } from '../dimse/constants.js'
import { dimse, withImplementation, type DimseAssociation, type DimseScp } from '../dimse/facade.js'
import type { ReceiverSpool } from '../spool-port.js'
import { checkAssociation, normaliseAddress, normaliseAet, type AssociationInfo, type AssociationPolicy, type Rejection } from './association-policy.js'
import { InboundMessages, type AcceptedContext } from './inbound.js'
import { implementation } from './part10-meta.js'
import { negotiateContexts, type ContextPolicy } from './presentation.js'
import type { PreparedFiles } from './prepared-files.js'
import type { IncomingConnection } from './socket-reads.js'
import type { ScpStats, StoreEvent } from './stats.js'

export interface ConnectionSettings {
  readonly policy: AssociationPolicy
  readonly contexts: ContextPolicy
  readonly spool: ReceiverSpool
  readonly prepared: PreparedFiles | undefined
  readonly log: Logger
  readonly maxPduLength: number
  readonly timeoutMs: number
  readonly stats: ScpStats
  readonly onStore: ((event: StoreEvent) => void) | undefined
}

const shuttingDown: Rejection = {
  result: RejectResult.Transient,
  source: RejectSource.ProviderPresentation,
  reason: RejectReason.TemporaryCongestion,
  why: 'the receiver is shutting down',
}

export class ScpConnection {
  readonly closed: Promise<void>
  private readonly scp: DimseScp
  private readonly inbound: InboundMessages
  private accepted: Map<number, AcceptedContext> | undefined
  private info: AssociationInfo | undefined
  private draining = false
  private ended = false

  private readonly socket: Socket

  constructor(
    incoming: IncomingConnection,
    private readonly settings: ConnectionSettings,
  ) {
    const socket = incoming.socket
    this.socket = socket
    socket.setNoDelay(true)
    const timeout = settings.timeoutMs
    this.scp = new (dimse().Scp)(socket, { connectTimeout: timeout, associationTimeout: timeout, pduTimeout: timeout })
    // What dcmjs-dimse's Server sets: its timeout check runs only for connected networks.
    this.scp.connected = true
    this.scp.connectedTime = Date.now()
    this.inbound = new InboundMessages({
      network: this.scp,
      connection: incoming,
      spool: settings.spool,
      prepared: settings.prepared,
      log: settings.log,
      stats: settings.stats,
      onStore: settings.onStore,
      peer: () => this.info,
      contexts: () => this.accepted,
      onProtocolError: (message) => this.protocolError(message),
      onIdle: () => {
        if (this.draining) this.shutDown()
      },
    })
    this.installHandlers()
    this.closed = new Promise<void>((resolve) => this.scp.on('close', () => void this.onClose().then(resolve)))
  }

  private get log(): Logger {
    return this.settings.log
  }

  private installHandlers(): void {
    const { responses } = dimse()
    this.scp.associationRequested = (association) => this.onAssociationRequest(association)
    this.scp.associationReleaseRequested = () => void this.onRelease()
    this.scp.cEchoRequest = (request, callback) => {
      const response = new responses.CEchoResponse(Status.Success)
      response.setMessageIdBeingRespondedTo(request.getMessageId())
      this.settings.stats.echoes++
      callback(response)
    }
    this.scp.abort = (source, reason) => {
      this.log.warn({ ...this.logFields(), source, reason }, 'the peer aborted the association')
      this.socket.destroy()
    }
    this.scp.on('networkError', (error) => {
      this.log.warn({ ...this.logFields(), err: error }, 'DICOM connection error')
      this.socket.destroy()
    })
  }

  private logFields(): Record<string, unknown> {
    return this.info === undefined ? { peer: normaliseAddress(this.socket.remoteAddress ?? '') } : { callingAet: this.info.callingAet, peer: this.info.peerAddress }
  }

  private associationInfo(association: DimseAssociation): AssociationInfo {
    const tls = this.socket instanceof TLSSocket ? this.socket : undefined
    const subject = tls?.getPeerCertificate()?.subject?.CN
    return {
      callingAet: normaliseAet(association.getCallingAeTitle()),
      calledAet: normaliseAet(association.getCalledAeTitle()),
      peerAddress: normaliseAddress(this.socket.remoteAddress ?? ''),
      peerPort: this.socket.remotePort ?? 0,
      tls: tls !== undefined,
      ...(tls === undefined ? {} : { peerCertificateAuthorized: tls.authorized }),
      ...(typeof subject === 'string' ? { peerCertificateSubject: subject } : {}),
    }
  }

  private onAssociationRequest(association: DimseAssociation): void {
    if (this.info !== undefined) return this.protocolError('a second A-ASSOCIATE-RQ on one connection')
    const info = this.associationInfo(association)
    this.info = info
    const { stats, policy } = this.settings
    let rejection = this.draining ? shuttingDown : checkAssociation(info, policy, stats.activeAssociations)
    const decisions = rejection === undefined ? negotiateContexts(association, this.settings.contexts) : []
    if (rejection === undefined && !decisions.some((decision) => decision.result === ContextResult.Acceptance)) {
      rejection = { result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.NoReasonGiven, why: 'no proposed presentation context is acceptable' }
    }
    if (rejection !== undefined) {
      stats.associationsRejected++
      this.log.warn({ ...info, result: rejection.result, source: rejection.source, reason: rejection.reason }, `association rejected: ${rejection.why}`)
      this.scp.sendAssociationReject(rejection.result, rejection.source, rejection.reason)
      this.endSocket()
      return
    }
    const accepted = new Map<number, AcceptedContext>()
    for (const decision of decisions) {
      if (decision.result === ContextResult.Acceptance && decision.transferSyntaxUid !== undefined) {
        accepted.set(decision.id, { abstractSyntaxUid: decision.abstractSyntaxUid, transferSyntaxUid: decision.transferSyntaxUid })
      }
    }
    // One operation at a time (PS3.7 D.3.3.3: without the item, the window is 1 invoked, 1 performed).
    association.setNegotiateAsyncOps(false)
    association.setNegotiateUserIdentityServerResponse(false)
    // We announce our own receive limit; dcmjs-dimse would announce the smaller of the peer's and ours.
    association.setMaxPduLength(this.settings.maxPduLength)
    withImplementation({ ...implementation, maxPduLength: this.settings.maxPduLength }, () => this.scp.sendAssociationAccept())
    this.accepted = accepted
    stats.activeAssociations++
    stats.associationsAccepted++
    this.log.info({ ...info, contexts: accepted.size, proposed: decisions.length }, 'association accepted')
  }

  private async onRelease(): Promise<void> {
    await this.inbound.settled()
    if (this.socket.destroyed) return
    this.scp.sendAssociationReleaseResponse()
    this.endSocket()
  }

  /** Stops once in-flight C-STOREs are answered: A-ABORT then close (used when the receiver closes). */
  drain(): void {
    this.draining = true
    if (this.inbound.idle) this.shutDown()
  }

  /** Closes at once; a C-STORE still arriving is dropped (not committed, never answered). */
  destroy(): void {
    this.socket.destroy()
  }

  private shutDown(): void {
    if (this.ended) return
    if (this.accepted !== undefined && !this.socket.destroyed) this.scp.sendAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)
    this.endSocket()
  }

  private protocolError(message: string): void {
    this.log.warn({ ...this.logFields() }, `DICOM protocol error, aborting: ${message}`)
    if (!this.socket.destroyed) this.scp.sendAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu)
    this.endSocket()
  }

  /** Half-closes once what is queued is flushed; the peer then closes its side (PS3.8 9.2.3), or we do after 2 s. */
  private endSocket(): void {
    if (this.ended) return
    this.ended = true
    this.inbound.stop()
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 2000).unref()
  }

  private async onClose(): Promise<void> {
    await this.inbound.abort()
    if (this.accepted !== undefined) this.settings.stats.activeAssociations--
    this.accepted = undefined
  }
}
