// One association through dcmjs-dimse: it connects, negotiates and matches responses; we time and count every request.
import type { Logger } from '@pacsflow/core'
import { PacsflowError } from '@pacsflow/core'
import type { ProposedContext } from './contexts.js'
import { parseStoreResponsePdu, type StoreResponse } from './store-response.js'
import {
  dimse,
  type DimseAssociation,
  type DimseNetwork,
  type DimseReject,
  type DimseRequest,
  type DimseSendOptions,
} from './facade.js'

export interface PeerOptions {
  readonly host: string
  readonly port: number
  readonly callingAet: string
  readonly calledAet: string
  readonly timeoutMs: number
  readonly security?: DimseSendOptions['securityOptions']
}

function rejectedError(peer: PeerOptions, reject: DimseReject): PacsflowError {
  // PS3.8 9.3.4: result 1 is rejected-permanent, 2 rejected-transient.
  const transient = reject.result === 2
  return new PacsflowError(
    'STORE_ASSOCIATION_REJECTED',
    `${peer.calledAet}@${peer.host}:${peer.port} rejected the association (${transient ? 'transient' : 'permanent'}; source ${reject.source}, reason ${reject.reason})`,
    { retryable: true, details: { result: reject.result, source: reject.source, reason: reject.reason, transient } },
  )
}

export function networkError(peer: PeerOptions, error: Error): PacsflowError {
  const timeout = /timeout/i.test(error.message)
  // Retrying does not mend a certificate the PACS's CA did not sign.
  const certificate = /certificate|SSL|TLS/i.test(error.message)
  return new PacsflowError(
    timeout ? 'STORE_TIMEOUT' : 'STORE_CONNECTION_FAILED',
    `${peer.calledAet}@${peer.host}:${peer.port}: ${error.message.replace(/^.*?-> /, '')}`,
    { retryable: !certificate, cause: error },
  )
}

/**
 * An open association. Every request waits for its own response with a time limit; a response
 * that does not come (dcmjs-dimse skips requests it cannot place, silently) fails the request
 * with STORE_TIMEOUT or, when the connection ends first, STORE_NO_RESPONSE.
 */
export class DimseSession {
  private failure: PacsflowError | undefined
  private readonly waiters = new Set<(error: PacsflowError) => void>()
  /** Requests awaiting a response, by message id, for the C-STORE-RSP fast path. */
  private readonly responders = new Map<number, (response: StoreResponse) => void>()
  private closedResolve!: () => void
  private readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve))

  private constructor(
    private readonly peer: PeerOptions,
    private readonly network: DimseNetwork,
    private readonly log: Logger,
  ) {}

  /** Connects and negotiates; throws STORE_CONNECTION_FAILED, STORE_ASSOCIATION_REJECTED, STORE_TIMEOUT or ABORTED. */
  static async open(peer: PeerOptions, contexts: readonly ProposedContext[], signal: AbortSignal, log: Logger): Promise<DimseSession> {
    const { Client, association, requests } = dimse()
    const client = new Client()
    // dcmjs-dimse needs one request to start; a C-ECHO only adds the Verification context and is never sent.
    client.addRequest(new requests.CEchoRequest())
    for (const proposed of contexts) {
      const context = new association.PresentationContext(0, proposed.abstractSyntaxUid)
      for (const syntax of proposed.transferSyntaxUids) context.addTransferSyntaxUid(syntax)
      client.addAdditionalPresentationContext(context, true)
    }
    let rejectOpen!: (error: PacsflowError) => void
    const opened = new Promise<DimseAssociation>((resolve, reject) => {
      rejectOpen = reject
      client.on('associationAccepted', resolve)
      client.on('associationRejected', (rj) => reject(rejectedError(peer, rj)))
      client.on('networkError', (error) => reject(networkError(peer, error)))
      client.on('closed', () => reject(new PacsflowError('STORE_CONNECTION_FAILED', `${peer.host}:${peer.port} closed the connection`, { retryable: true })))
    })
    client.send(peer.host, peer.port, peer.callingAet, peer.calledAet, {
      connectTimeout: peer.timeoutMs,
      associationTimeout: peer.timeoutMs,
      pduTimeout: peer.timeoutMs,
      ...(peer.security === undefined ? {} : { securityOptions: peer.security }),
    })
    const network = client.network
    if (network === undefined) throw new PacsflowError('STORE_CONNECTION_FAILED', 'dcmjs-dimse did not start a connection', { retryable: true })
    // Nagle's algorithm holds each small PDU back for the peer's delayed ACK: 10-30x slower.
    network.socket.setNoDelay(true)
    // We send the requests ourselves, one at a time, each timed; dcmjs-dimse only answers them.
    network.sendRequests = () => {}
    const session = new DimseSession(peer, network, log)
    const processPdu = network._processPdu
    network._processPdu = (pdu) => (session.answered(pdu) ? Promise.resolve() : processPdu.call(network, pdu))
    client.on('networkError', (error) => session.fail(networkError(peer, error)))
    client.on('closed', () => session.onClosed())
    network.on('abort', (abort) => {
      const error = new PacsflowError('STORE_CONNECTION_FAILED', `${peer.calledAet}@${peer.host}:${peer.port} aborted the association (A-ABORT source ${abort.source}, reason ${abort.reason})`, {
        retryable: true,
        details: { ...abort },
      })
      rejectOpen(error)
      session.fail(error)
      network.socket.destroy()
    })
    const timer = setTimeout(() => {
      rejectOpen(new PacsflowError('STORE_TIMEOUT', `no association with ${peer.calledAet}@${peer.host}:${peer.port} within ${peer.timeoutMs} ms`, { retryable: true }))
      session.abort()
    }, peer.timeoutMs)
    const onAbort = (): void => session.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      network.association = await opened
      return session
    } catch (error) {
      session.abort()
      throw signal.aborted ? new PacsflowError('ABORTED', 'sending was aborted', { cause: signal.reason }) : error
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  get association(): DimseAssociation {
    return this.network.association
  }

  get socket(): DimseNetwork['socket'] {
    return this.network.socket
  }

  /** A C-STORE-RSP to one of our requests, read without dcmjs; false for any other PDU (dcmjs-dimse takes it). */
  private answered(pdu: Buffer): boolean {
    if (this.network.dimse !== undefined || this.responders.size === 0) return false
    const response = parseStoreResponsePdu(pdu)
    const responder = response && this.responders.get(response.messageIdBeingRespondedTo)
    if (response === undefined || responder === undefined) return false
    responder(response)
    return true
  }

  private fail(error: PacsflowError): void {
    this.failure ??= error
    for (const reject of this.waiters) reject(error)
  }

  private onClosed(): void {
    this.fail(
      new PacsflowError('STORE_NO_RESPONSE', `${this.peer.host}:${this.peer.port} ended the association with a request unanswered`, {
        retryable: true,
      }),
    )
    this.closedResolve()
  }

  /**
   * Sends one request and waits for its response, at most `timeoutMs` after the last byte was
   * queued. `write` sends the command and data set itself (given the message id); without it,
   * dcmjs-dimse encodes and sends the request with its data set.
   */
  async exchange(
    request: DimseRequest,
    presentationContextId: number,
    write: ((messageId: number) => Promise<void>) | undefined,
    signal: AbortSignal,
  ): Promise<StoreResponse> {
    if (this.failure !== undefined) throw this.failure
    const messageId = this.network._getNextMessageId()
    request.setMessageId(messageId)
    this.network.pending.push(request)
    let timer: NodeJS.Timeout | undefined
    let rejectWait!: (error: PacsflowError) => void
    const response = new Promise<StoreResponse>((resolve, reject) => {
      rejectWait = reject
      this.responders.set(messageId, resolve)
      request.on('response', (answer) => {
        // dcmjs-dimse 0.3.3 does not reset this buffer after a response without a data set, so
        // each C-STORE-RSP was appended to all earlier ones and the whole buffer parsed again:
        // O(n^2) over an association (2 ms a response after 500 files). Nothing else is in it
        // now: the next PDU answers a request not yet sent.
        this.network.dimseStream = undefined
        resolve({ messageIdBeingRespondedTo: messageId, status: answer.getStatus(), errorComment: answer.getErrorComment() || undefined })
      })
    })
    // Awaited below; marked handled for the path where sending throws before that.
    response.catch(() => {})
    this.waiters.add(rejectWait)
    const onAbort = (): void => rejectWait(new PacsflowError('ABORTED', 'sending was aborted', { cause: signal.reason }))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      if (write === undefined) {
        this.network._sendPDataTF(request, presentationContextId, this.network.association.getMaxPduLength())
      } else {
        const writing = write(request.getMessageId())
        // A response or a failure may win the race; the loser's rejection is not an unhandled one.
        writing.catch(() => {})
        await Promise.race([writing, response])
      }
      timer = setTimeout(() => {
        rejectWait(new PacsflowError('STORE_TIMEOUT', `no C-STORE response within ${this.peer.timeoutMs} ms`, { retryable: true }))
        this.abort()
      }, this.peer.timeoutMs)
      return await response
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      this.waiters.delete(rejectWait)
      this.responders.delete(messageId)
      // dcmjs-dimse never forgets an answered request; its response lookup is a linear scan.
      const at = this.network.pending.indexOf(request)
      if (at >= 0) this.network.pending.splice(at, 1)
    }
  }

  /** A-RELEASE, waiting for the peer to close (at most timeoutMs), then the socket is destroyed. */
  async release(): Promise<void> {
    if (this.network.socket.destroyed) return
    this.network.sendAssociationReleaseRequest()
    const timer = setTimeout(() => this.network.socket.destroy(), Math.min(this.peer.timeoutMs, 10_000))
    await this.closed
    clearTimeout(timer)
  }

  /** A-ABORT and close at once (a timeout, a failure, or the caller's signal). */
  abort(): void {
    if (this.network.socket.destroyed) return
    try {
      this.network.sendAbort()
    } catch (error) {
      this.log.debug({ err: error }, 'A-ABORT could not be sent')
    }
    this.network.socket.destroy()
  }
}
