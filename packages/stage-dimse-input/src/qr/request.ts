// One query/retrieve request on its own association through dcmjs-dimse: every response collected, failures as coded errors.
import { PacsflowError, type Logger } from '@pacsflow/core'
import { AbortReason, AbortSource, Status } from '../dimse/constants.js'
import { dimse, type DimseAssociation, type DimseClient, type DimseClientNetwork, type DimseRequest, type DimseResponse } from '../dimse/facade.js'
import type { QrPeer } from './peer.js'

export interface RequestOutcome {
  /** Every response, pending ones first, the final one last. */
  readonly responses: readonly DimseResponse[]
  readonly final: DimseResponse
}

export interface RequestOptions {
  /** The SOP class of the request (to check that the PACS accepted a context for it). */
  readonly sopClassUid: string
  /** What the request does, for messages: 'C-FIND', 'C-MOVE', 'C-GET'. */
  readonly what: string
  readonly signal?: AbortSignal
  readonly log: Logger
  /** Before the association is requested: e.g. C-GET adds storage contexts and takes over incoming C-STOREs. */
  readonly prepare?: (client: DimseClient, network: DimseClientNetwork) => void
  /** After the final response, before the association is released (C-GET: wait for the last commit). */
  readonly beforeRelease?: () => Promise<void>
  /** Each response as it comes (C-MOVE progress). */
  readonly onResponse?: (response: DimseResponse) => void
}

function peerName(peer: QrPeer): string {
  return `${peer.calledAet}@${peer.host}:${peer.port}`
}

export function connectionError(peer: QrPeer, error: Error, what: string): PacsflowError {
  const timeout = /timeout/i.test(error.message)
  // Retrying does not mend a certificate the CA did not sign.
  const certificate = /certificate|SSL|TLS/i.test(error.message)
  return new PacsflowError(timeout ? 'QR_TIMEOUT' : 'QR_CONNECTION_FAILED', `${what} to ${peerName(peer)}: ${error.message.replace(/^.*?-> /, '')}`, {
    cause: error,
    retryable: !certificate,
  })
}

function rejectedError(peer: QrPeer, reject: { result: number; source: number; reason: number }): PacsflowError {
  // PS3.8 Table 9-21: result 2 is rejected-transient.
  const transient = reject.result === 2
  return new PacsflowError(
    'QR_ASSOCIATION_REJECTED',
    `${peerName(peer)} rejected the association (${transient ? 'transient' : 'permanent'}; source ${reject.source}, reason ${reject.reason}); does it know our AE title '${peer.callingAet}'?`,
    { retryable: transient, details: { ...reject } },
  )
}

function acceptedFor(association: DimseAssociation, sopClassUid: string): boolean {
  return association.getPresentationContexts().some(({ context }) => context.getAbstractSyntaxUid() === sopClassUid && context.getResult() === 0)
}

interface Watch {
  failure: PacsflowError | undefined
  final: DimseResponse | undefined
}

/** Wires the client's events into `watch`; resolves when the connection closes. */
function watchClient(client: DimseClient, peer: QrPeer, request: DimseRequest, options: RequestOptions, watch: Watch, responses: DimseResponse[]): Promise<void> {
  request.on('response', (response) => {
    // dcmjs-dimse 0.3.3 keeps a data-set-less command's buffer and prepends it to the next response.
    if (client.network !== undefined) client.network.dimseStream = undefined
    responses.push(response)
    options.onResponse?.(response)
    const status = response.getStatus()
    if (status !== Status.Pending && status !== Status.PendingWarning) watch.final = response
  })
  client.on('associationAccepted', (association) => {
    if (!acceptedFor(association, options.sopClassUid)) {
      watch.failure ??= new PacsflowError('QR_NOT_SUPPORTED', `${peerName(peer)} accepted no presentation context for ${options.what} (${options.sopClassUid})`)
    }
  })
  client.on('associationRejected', (reject) => (watch.failure ??= rejectedError(peer, reject)))
  client.on('networkError', (error) => (watch.failure ??= connectionError(peer, error, options.what)))
  return new Promise<void>((resolve) => client.on('closed', () => resolve()))
}

/**
 * Opens an association, sends `request`, collects its responses until the final one, and
 * releases. Throws QR_CONNECTION_FAILED, QR_TIMEOUT (dcmjs-dimse's connect, association and
 * between-PDU limits are `peer.timeoutMs`), QR_ASSOCIATION_REJECTED, QR_NOT_SUPPORTED, or ABORTED.
 */
export async function runRequest(peer: QrPeer, request: DimseRequest, options: RequestOptions): Promise<RequestOutcome> {
  const client = new (dimse().Client)()
  client.addRequest(request)
  const responses: DimseResponse[] = []
  const watch: Watch = { failure: undefined, final: undefined }
  const closed = watchClient(client, peer, request, options, watch, responses)
  client.send(peer.host, peer.port, peer.callingAet, peer.calledAet, {
    connectTimeout: peer.timeoutMs,
    associationTimeout: peer.timeoutMs,
    pduTimeout: peer.timeoutMs,
    ...(peer.security === undefined ? {} : { securityOptions: peer.security }),
  })
  const network = client.network
  if (network === undefined) throw new PacsflowError('QR_CONNECTION_FAILED', `dcmjs-dimse did not connect to ${peerName(peer)}`, { retryable: true })
  // Nagle's algorithm holds each small PDU back for the peer's delayed ACK.
  network.socket.setNoDelay(true)
  network.on('abort', (abort) => {
    watch.failure ??= new PacsflowError('QR_CONNECTION_FAILED', `${peerName(peer)} aborted the association (A-ABORT source ${abort.source}, reason ${abort.reason})`, {
      retryable: true,
      details: { ...abort },
    })
    network.socket.destroy()
  })
  if (options.beforeRelease !== undefined) {
    const release = network.sendAssociationReleaseRequest.bind(network)
    const before = options.beforeRelease
    network.sendAssociationReleaseRequest = () => void before().finally(() => !network.socket.destroyed && release())
  }
  options.prepare?.(client, network)
  const stop = (): void => {
    if (!network.socket.destroyed) network.sendAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)
    network.socket.destroy()
  }
  options.signal?.addEventListener('abort', stop, { once: true })
  try {
    await closed
  } finally {
    options.signal?.removeEventListener('abort', stop)
  }
  if (options.signal?.aborted === true) throw new PacsflowError('ABORTED', `${options.what} was aborted`, { cause: options.signal.reason })
  if (watch.failure !== undefined) throw watch.failure
  if (watch.final === undefined) {
    throw new PacsflowError('QR_CONNECTION_FAILED', `${options.what} to ${peerName(peer)}: the association ended without a final response`, { retryable: true })
  }
  options.log.debug({ pacs: peerName(peer), what: options.what, responses: responses.length, status: watch.final.getStatus() }, 'query/retrieve request done')
  return { responses, final: watch.final }
}
