// Deterministic UIDs: the same job and input always get the same Series and SOP Instance UIDs,
// so a resumed job rewrites identical instances and the outbox's sends stay idempotent.
import { derivedUid } from '@pacsflow/imaging'

export { derivedUid }

/** The UIDs of one output series: its Series Instance UID and one SOP Instance UID per slice. */
export interface SeriesUids {
  readonly seriesInstanceUid: string
  instanceUid(slice: number): string
}

/**
 * UIDs from a seed (the job id), the digest of the input (file content, reference, options).
 * A different input or different options give new UIDs: changed pixels must never reuse a
 * SOP Instance UID (PS3.3 C.12.1.1.1).
 */
export function seriesUids(seed: string, inputDigest: string): SeriesUids {
  const seriesInstanceUid = derivedUid('pacsflow-dicomise', 'series', seed, inputDigest)
  return {
    seriesInstanceUid,
    instanceUid: (slice) => derivedUid('pacsflow-dicomise', 'instance', seriesInstanceUid, String(slice)),
  }
}
