// C-FIND at IMAGE level: which of our SOP instances the PACS holds, series by series.
import { PacsflowError } from '@pacsflow/core'
import { dimse, STATUS_PENDING, STATUS_PENDING_WARNING, type DimseRequest } from './facade.js'
import type { PeerOptions } from './session.js'

/** Study Root Query/Retrieve Information Model - FIND (PS3.4 C.6.2.1). */
const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1'

export interface SeriesKey {
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
}

function queryFailed(peer: PeerOptions, message: string, cause?: unknown): PacsflowError {
  return new PacsflowError('STORE_QUERY_FAILED', `C-FIND to ${peer.calledAet}@${peer.host}:${peer.port}: ${message}`, {
    retryable: true,
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * The SOP Instance UIDs the PACS holds in each series (Study Root, IMAGE level, universal
 * matching on SOPInstanceUID, PS3.4 C.4.1.2.1), on one association. Every request must end
 * with a final response: a request that dcmjs-dimse skipped, or a connection that ended
 * early, throws STORE_QUERY_FAILED rather than reading as "not there".
 */
export async function findInstances(peer: PeerOptions, series: readonly SeriesKey[], signal: AbortSignal): Promise<Set<string>> {
  const found = new Set<string>()
  if (series.length === 0) return found
  const { Client, requests } = dimse()
  const client = new Client()
  const finals = new Map<DimseRequest, number>()
  for (const key of series) {
    const request = requests.CFindRequest.createImageFindRequest({
      StudyInstanceUID: key.studyInstanceUid,
      SeriesInstanceUID: key.seriesInstanceUid,
      SOPInstanceUID: '',
    })
    request.on('response', (response) => {
      const status = response.getStatus()
      if (status === STATUS_PENDING || status === STATUS_PENDING_WARNING) {
        const uid = response.getDataset()?.getElement('SOPInstanceUID')
        if (typeof uid === 'string') found.add(uid)
      } else {
        finals.set(request, status)
        // As for C-STORE-RSP (see DimseSession.exchange): dcmjs-dimse 0.3.3 would prepend this
        // data-set-less command to the next response's command.
        if (client.network !== undefined) client.network.dimseStream = undefined
      }
    })
    client.addRequest(request)
  }
  let failure: PacsflowError | undefined
  const closed = new Promise<void>((resolve) => {
    client.on('associationRejected', (reject) => (failure ??= queryFailed(peer, `association rejected (result ${reject.result}, source ${reject.source}, reason ${reject.reason})`)))
    client.on('networkError', (error) => (failure ??= queryFailed(peer, error.message, error)))
    client.on('closed', resolve)
  })
  client.send(peer.host, peer.port, peer.callingAet, peer.calledAet, {
    connectTimeout: peer.timeoutMs,
    associationTimeout: peer.timeoutMs,
    pduTimeout: peer.timeoutMs,
    ...(peer.security === undefined ? {} : { securityOptions: peer.security }),
  })
  const socket = client.network?.socket
  socket?.setNoDelay(true)
  client.network?.on('abort', (abort) => {
    failure ??= queryFailed(peer, `the PACS aborted the association (A-ABORT source ${abort.source}, reason ${abort.reason}); does it allow C-FIND from ${peer.callingAet}?`)
    socket?.destroy()
  })
  const stop = (): void => void socket?.destroy()
  signal.addEventListener('abort', stop, { once: true })
  const timer = setTimeout(stop, peer.timeoutMs * 2)
  try {
    await closed
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
  }
  if (signal.aborted) throw new PacsflowError('ABORTED', 'the query was aborted', { cause: signal.reason })
  if (failure !== undefined) throw failure
  const unanswered = series.length - finals.size
  if (unanswered > 0) throw queryFailed(peer, `${unanswered} of ${series.length} queries got no final response (is ${STUDY_ROOT_FIND} supported?)`)
  const failed = [...finals.values()].filter((status) => status !== 0x0000)
  if (failed.length > 0) throw queryFailed(peer, `the PACS answered 0x${failed[0]!.toString(16).padStart(4, '0')}`)
  return found
}
