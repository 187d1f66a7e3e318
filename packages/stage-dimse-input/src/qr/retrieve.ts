// C-MOVE (the PACS sends to our SCP) and C-GET (the PACS sends back on the same association, into the spool) of one study.
import { PacsflowError, silentLogger } from '@pacsflow/core'
import { isValidUid, TransferSyntax } from '@pacsflow/imaging'
import { AbortReason, AbortSource, Status } from '../dimse/constants.js'
import { dimse, type DimseAssociation, type DimseClientNetwork, type DimseRetrieveResponse } from '../dimse/facade.js'
import { InboundMessages, type AcceptedContext } from '../scp/inbound.js'
import { checkAet } from '../scp/options.js'
import { streamedConnection } from '../scp/socket-reads.js'
import { ScpStats, type StoreEvent } from '../scp/stats.js'
import type { ReceiverSpool } from '../spool-port.js'
import type { QueryOptions } from './find.js'
import { resolvePeer, type QrPeer } from './peer.js'
import { runRequest } from './request.js'

/** Study Root Query/Retrieve Information Model - MOVE and GET (PS3.4 C.6.2.1). */
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2'
export const STUDY_ROOT_GET = '1.2.840.10008.5.1.4.1.2.2.3'

/** The sub-operation counts of a finished retrieve (PS3.7 C.4.2.1.5, C.4.3.1.5). */
export interface RetrieveCounts {
  readonly completed: number
  readonly failed: number
  readonly warning: number
  /** The final status: 0x0000 success, 0xB000 finished with failures or warnings. */
  readonly status: number
}

export interface MoveOptions extends QueryOptions {
  /** The AE title the PACS sends to (our SCP's); the PACS must know it with our address and port. */
  readonly destinationAet: string
  /** Progress: each pending response's counts. */
  readonly onProgress?: (counts: { readonly completed: number; readonly failed: number; readonly warning: number; readonly remaining?: number }) => void
}

export interface GetOptions extends QueryOptions {
  /** Where the C-STOREs that come back go (answered success only once committed). */
  readonly spool: ReceiverSpool
  readonly onStore?: (event: StoreEvent) => void
}

function countsOf(response: DimseRetrieveResponse): { completed: number; failed: number; warning: number; remaining?: number } {
  const remaining = response.getRemaining()
  return {
    completed: response.getCompleted() ?? 0,
    failed: response.getFailures() ?? 0,
    warning: response.getWarnings() ?? 0,
    ...(remaining === undefined ? {} : { remaining }),
  }
}

/**
 * The counts of a final response, or QR_RETRIEVE_FAILED: a failure status (0xA701/0xA702 out of
 * resources, 0xA801 move destination unknown, 0xA900, 0xCxxx), a cancel, or sub-operations that
 * failed (status 0xB000, PS3.4 C.4.2.1.5). Sub-operations that only warned count as retrieved.
 */
function finalCounts(peer: QrPeer, what: string, studyInstanceUid: string, final: DimseRetrieveResponse): RetrieveCounts {
  const status = final.getStatus()
  const counts = { ...countsOf(final), status }
  const hex = `0x${status.toString(16).padStart(4, '0')}`
  const details = { status, studyInstanceUid, completed: counts.completed, failed: counts.failed, warning: counts.warning }
  if (status === Status.Success || (status === Status.SubOperationsWarning && counts.failed === 0)) return counts
  const comment = final.getErrorComment()
  const why =
    status === 0xa801
      ? `the PACS does not know the move destination (status ${hex}): add our AE title, host and port to its DICOM nodes`
      : status === Status.SubOperationsWarning
        ? `${counts.failed} of ${counts.completed + counts.failed + counts.warning} sub-operations failed (status ${hex})`
        : `status ${hex}${comment ? ` (${comment})` : ''}`
  throw new PacsflowError('QR_RETRIEVE_FAILED', `${what} of study ${studyInstanceUid} from ${peer.calledAet}: ${why}`, {
    retryable: (status & 0xff00) === 0xa700 || status === Status.SubOperationsWarning,
    details,
  })
}

function checkStudy(studyInstanceUid: string): void {
  if (!isValidUid(studyInstanceUid)) throw new PacsflowError('INVALID_OPTIONS', `studyInstanceUid ${JSON.stringify(studyInstanceUid)} is not a UID`)
}

/**
 * C-MOVE of a study to `destinationAet` (Study Root, STUDY level). Resolves with the counts
 * once the PACS's final response says every sub-operation is done; throws QR_RETRIEVE_FAILED
 * and the connection errors of `runRequest`.
 */
export async function moveStudy(studyInstanceUid: string, options: MoveOptions): Promise<RetrieveCounts> {
  checkStudy(studyInstanceUid)
  const peer = resolvePeer(options.pacs, options.aet, options.timeoutMs)
  const destination = checkAet(options.destinationAet, 'destinationAet')
  const request = dimse().requests.CMoveRequest.createStudyMoveRequest(destination, studyInstanceUid)
  const { final } = await runRequest(peer, request, {
    sopClassUid: STUDY_ROOT_MOVE,
    what: 'C-MOVE',
    log: options.log ?? silentLogger,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onResponse: (response) => {
      if (response.getStatus() === Status.Pending) options.onProgress?.(countsOf(response as DimseRetrieveResponse))
    },
  })
  return finalCounts(peer, 'C-MOVE', studyInstanceUid, final as DimseRetrieveResponse)
}

/**
 * Storage SOP classes a C-GET proposes (with the SCP role, PS3.7 D.3.3.4) besides dcmjs-dimse's
 * own list of image storage classes: MR Spectroscopy, Raw Data, the presentation states and key
 * object selection that travel with MR studies.
 */
const GET_EXTRA_SOP_CLASSES = [
  '1.2.840.10008.5.1.4.1.1.4.2', // MR Spectroscopy Storage
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data Storage
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State Storage
  '1.2.840.10008.5.1.4.1.1.88.59', // Key Object Selection Document Storage
]

/** Adds our extra storage contexts (SCP role) to the C-GET association dcmjs-dimse is about to request. */
function addStorageContexts(network: DimseClientNetwork): void {
  const request = network.sendAssociationRequest.bind(network)
  network.sendAssociationRequest = (association: DimseAssociation) => {
    const proposed = new Set(association.getPresentationContexts().map(({ context }) => context.getAbstractSyntaxUid()))
    for (const uid of GET_EXTRA_SOP_CLASSES) {
      if (proposed.has(uid)) continue
      const id = association.addPresentationContext(uid)
      association.addTransferSyntaxToPresentationContext(id, TransferSyntax.ImplicitVRLittleEndian)
      association.addTransferSyntaxToPresentationContext(id, TransferSyntax.ExplicitVRLittleEndian)
      association.getPresentationContext(id)?.setProviderRole(true)
    }
    request(association)
  }
}

/** The contexts the PACS accepted, as the inbound side needs them. */
function acceptedContexts(association: DimseAssociation): Map<number, AcceptedContext> {
  const accepted = new Map<number, AcceptedContext>()
  for (const { id, context } of association.getPresentationContexts()) {
    const syntax = context.getAcceptedTransferSyntaxUid()
    if (context.getResult() === 0 && syntax !== undefined) accepted.set(id, { abstractSyntaxUid: context.getAbstractSyntaxUid(), transferSyntaxUid: syntax })
  }
  return accepted
}

/**
 * C-GET of a study (Study Root, STUDY level): the PACS sends each instance back as a C-STORE on
 * the same association; each is streamed into `options.spool` and answered success only once
 * committed, exactly as the SCP does. Resolves with the counts after the final response and
 * the last commit; throws QR_RETRIEVE_FAILED and the connection errors of `runRequest`. The
 * storage contexts offered are uncompressed (Implicit and Explicit VR Little Endian): a PACS
 * holding compressed objects decompresses them for C-GET (use C-MOVE to receive them as stored).
 */
export async function getStudy(studyInstanceUid: string, options: GetOptions): Promise<RetrieveCounts> {
  checkStudy(studyInstanceUid)
  const peer = resolvePeer(options.pacs, options.aet, options.timeoutMs)
  const log = options.log ?? silentLogger
  const request = dimse().requests.CGetRequest.createStudyGetRequest(studyInstanceUid)
  let inbound: InboundMessages | undefined
  let contexts: Map<number, AcceptedContext> | undefined
  const { final } = await runRequest(peer, request, {
    sopClassUid: STUDY_ROOT_GET,
    what: 'C-GET',
    log,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    prepare: (client, network) => {
      addStorageContexts(network)
      client.on('associationAccepted', (association) => (contexts = acceptedContexts(association)))
      inbound = new InboundMessages({
        network,
        connection: streamedConnection(network.socket),
        spool: options.spool,
        log,
        stats: new ScpStats(),
        onStore: options.onStore,
        peer: () => ({ callingAet: peer.calledAet, peerAddress: network.socket.remoteAddress ?? peer.host }),
        contexts: () => contexts,
        onProtocolError: (message) => {
          log.warn({ pacs: peer.calledAet }, `DICOM protocol error during C-GET, aborting: ${message}`)
          network.sendAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu)
          network.socket.destroy()
        },
        onIdle: () => {},
      })
    },
    beforeRelease: async () => inbound?.settled(),
  })
  await inbound?.settled()
  return finalCounts(peer, 'C-GET', studyInstanceUid, final as DimseRetrieveResponse)
}
