// Deterministic UIDs: the same job and input always get the same Series and SOP Instance UIDs,
// so a resumed job rewrites identical instances and the outbox's sends stay idempotent.
import { createHash } from 'node:crypto'

/**
 * A UID under the `2.25` root, which needs no registered organisation root (PS3.5 B.2): the
 * decimal value of a UUID. The UUID is an RFC 9562 version 8 (custom) UUID made of the first
 * 128 bits of SHA-256 over `parts`, with its version and variant bits set. At most 44 characters.
 */
export function derivedUid(...parts: readonly string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) {
    // Length-prefixed, so ('ab', 'c') and ('a', 'bc') differ.
    hash.update(`${part.length}:`)
    hash.update(part)
  }
  const bytes = hash.digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80 // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // variant 10
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`
}

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
