// DICOM UIDs: validation (PS3.5 9.1: UIDs end up in paths and queries, so anything else is refused)
// and deterministic derivation (PS3.5 B.2).
import { nodeCrypto } from '@pacsflow/core'

// Components of digits separated by single dots; a component is "0" or has no leading zero.
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/

/** True for a valid DICOM UID: 1 to 64 characters, digit components joined by single dots, no leading zeros. */
export function isValidUid(uid: string): boolean {
  return uid.length >= 1 && uid.length <= 64 && UID_PATTERN.test(uid)
}

/**
 * A UID under the `2.25` root, which needs no registered organisation root (PS3.5 B.2): the
 * decimal value of a UUID. The UUID is an RFC 9562 version 8 (custom) UUID made of the first
 * 128 bits of SHA-256 over `parts`, with its version and variant bits set. At most 44 characters.
 * The same parts always give the same UID: resumed jobs regenerate identical instances.
 */
export function derivedUid(...parts: readonly string[]): string {
  const hash = nodeCrypto().createHash('sha256')
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
