// C-FIND in the Study Root model: studies by accession number, patient ID or study UID, and the series of a study.
import { PacsflowError, silentLogger, type Logger } from '@pacsflow/core'
import { isValidUid } from '@pacsflow/imaging'
import { Status } from '../dimse/constants.js'
import { dimse, type DimseDataset } from '../dimse/facade.js'
import { resolvePeer, type PacsAddress, type QrPeer } from './peer.js'
import { runRequest } from './request.js'

/** Study Root Query/Retrieve Information Model - FIND (PS3.4 C.6.2.1). */
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1'

/** What to look for; give at least one key. Values match as PS3.4 C.2.2.2 says (single value; `*` and `?` are wildcards). */
export interface StudyQuery {
  readonly accessionNumber?: string
  readonly patientId?: string
  readonly studyInstanceUid?: string
}

/** One study the PACS holds (what it returned for the keys asked). */
export interface StudyMatch {
  readonly studyInstanceUid: string
  readonly accessionNumber?: string
  readonly patientId?: string
  readonly patientName?: string
  readonly studyDate?: string
  readonly studyDescription?: string
  readonly modalitiesInStudy?: readonly string[]
  readonly numberOfStudyRelatedSeries?: number
  readonly numberOfStudyRelatedInstances?: number
}

export interface SeriesMatch {
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
  readonly seriesNumber?: number
  readonly seriesDescription?: string
  readonly modality?: string
  readonly numberOfSeriesRelatedInstances?: number
}

/** Where to query and as whom. */
export interface QueryOptions {
  readonly pacs: PacsAddress
  /** Our (calling) AE title; the PACS must know it. */
  readonly aet: string
  /** Connect, negotiate, and between-PDU limit (default 60000 ms). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  readonly log?: Logger
}

/** A naturalised dcmjs value as text: strings as they are, multi-values joined by `\`, person names by their alphabetic group. */
function text(dataset: DimseDataset, name: string): string | undefined {
  const value = dataset.getElement(name)
  const one = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v
    if (typeof v === 'number') return String(v)
    if (typeof v === 'object' && v !== null && typeof (v as { Alphabetic?: unknown }).Alphabetic === 'string') return (v as { Alphabetic: string }).Alphabetic
    return undefined
  }
  const out = Array.isArray(value) ? value.map(one).filter((v) => v !== undefined).join('\\') : one(value)
  return out === undefined || out.trim() === '' ? undefined : out.trim()
}

function count(dataset: DimseDataset, name: string): number | undefined {
  const value = Number(text(dataset, name))
  return Number.isInteger(value) && value >= 0 ? value : undefined
}

/** The object without its undefined fields (exactOptionalPropertyTypes). */
function defined<T extends object>(object: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T
}

/** Runs one C-FIND and returns the identifiers of its pending responses (PS3.4 C.4.1.1.4). */
async function find(peer: QrPeer, level: 'STUDY' | 'SERIES', keys: Record<string, unknown>, options: QueryOptions): Promise<DimseDataset[]> {
  const { requests } = dimse()
  const request = level === 'STUDY' ? requests.CFindRequest.createStudyFindRequest(keys) : requests.CFindRequest.createSeriesFindRequest(keys)
  const { responses, final } = await runRequest(peer, request, {
    sopClassUid: STUDY_ROOT_FIND,
    what: `C-FIND (${level})`,
    log: options.log ?? silentLogger,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  const status = final.getStatus()
  if (status !== Status.Success) {
    throw new PacsflowError('QR_FIND_FAILED', `C-FIND (${level}) on ${peer.calledAet}: status 0x${status.toString(16).padStart(4, '0')}${final.getErrorComment() ? ` (${final.getErrorComment()})` : ''}`, {
      retryable: (status & 0xff00) === 0xa700,
      details: { status, keys },
    })
  }
  return responses.flatMap((response) => {
    const pending = response.getStatus() === Status.Pending || response.getStatus() === Status.PendingWarning
    const dataset = pending ? response.getDataset() : undefined
    return dataset === undefined ? [] : [dataset]
  })
}

function checkQuery(query: StudyQuery): Record<string, string> {
  const keys: Record<string, string> = {}
  if (query.accessionNumber !== undefined) keys.AccessionNumber = query.accessionNumber
  if (query.patientId !== undefined) keys.PatientID = query.patientId
  if (query.studyInstanceUid !== undefined) {
    if (!isValidUid(query.studyInstanceUid)) throw new PacsflowError('INVALID_OPTIONS', `studyInstanceUid ${JSON.stringify(query.studyInstanceUid)} is not a UID`)
    keys.StudyInstanceUID = query.studyInstanceUid
  }
  if (Object.keys(keys).length === 0 || Object.values(keys).some((value) => typeof value !== 'string' || value === '' || value.includes('\\'))) {
    throw new PacsflowError('INVALID_OPTIONS', 'a study query needs accessionNumber, patientId or studyInstanceUid: non-empty, single-valued')
  }
  return keys
}

/**
 * The studies that match (C-FIND, STUDY level). A match whose StudyInstanceUID is not a valid
 * UID is left out (logged). Throws INVALID_OPTIONS, QR_FIND_FAILED and the connection errors of
 * `runRequest`; an empty answer is an empty list (queryRetrieve turns it into QR_NOT_FOUND).
 */
export async function findStudies(query: StudyQuery, options: QueryOptions): Promise<StudyMatch[]> {
  const keys = checkQuery(query)
  const peer = resolvePeer(options.pacs, options.aet, options.timeoutMs)
  const found = await find(peer, 'STUDY', keys, options)
  const matches: StudyMatch[] = []
  for (const dataset of found) {
    const uid = text(dataset, 'StudyInstanceUID')
    if (uid === undefined || !isValidUid(uid)) {
      options.log?.warn({ uid, query: keys }, 'C-FIND returned a study without a valid StudyInstanceUID; left out')
      continue
    }
    const modalities = text(dataset, 'ModalitiesInStudy')
    matches.push(
      defined<StudyMatch>({
        studyInstanceUid: uid,
        accessionNumber: text(dataset, 'AccessionNumber'),
        patientId: text(dataset, 'PatientID'),
        patientName: text(dataset, 'PatientName'),
        studyDate: text(dataset, 'StudyDate'),
        studyDescription: text(dataset, 'StudyDescription'),
        modalitiesInStudy: modalities?.split('\\'),
        numberOfStudyRelatedSeries: count(dataset, 'NumberOfStudyRelatedSeries'),
        numberOfStudyRelatedInstances: count(dataset, 'NumberOfStudyRelatedInstances'),
      }),
    )
  }
  return matches
}

/** The series of a study (C-FIND, SERIES level), by series number. */
export async function findSeries(studyInstanceUid: string, options: QueryOptions): Promise<SeriesMatch[]> {
  checkQuery({ studyInstanceUid })
  const peer = resolvePeer(options.pacs, options.aet, options.timeoutMs)
  const found = await find(peer, 'SERIES', { StudyInstanceUID: studyInstanceUid }, options)
  const matches: SeriesMatch[] = []
  for (const dataset of found) {
    const uid = text(dataset, 'SeriesInstanceUID')
    if (uid === undefined || !isValidUid(uid)) continue
    const number = Number(text(dataset, 'SeriesNumber'))
    matches.push(
      defined<SeriesMatch>({
        studyInstanceUid,
        seriesInstanceUid: uid,
        seriesNumber: Number.isFinite(number) ? number : undefined,
        seriesDescription: text(dataset, 'SeriesDescription'),
        modality: text(dataset, 'Modality'),
        numberOfSeriesRelatedInstances: count(dataset, 'NumberOfSeriesRelatedInstances'),
      }),
    )
  }
  return matches.sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity))
}
