// The seal: what a receiver writes into an incoming object's preamble so that, after a crash, the spool can tell a whole object it may have acknowledged from a partial one.
import type { Provenance } from './types.js'

/**
 * The bytes the seal takes: the Part 10 preamble, which PS3.10 7.1 leaves to the implementation
 * ("available for Application Profile or implementation specified use"); readers skip it.
 */
export const SEAL_BYTES = 128

const MAGIC = 'PACSFLOW-SEAL/1'
const ascii = new TextEncoder()
const latin1 = new TextDecoder('latin1')

/**
 * Writes the seal of a `size`-byte incoming object into `preamble` (its first 128 bytes): the
 * magic, the size, and who sent it, as lines of text padded with NULs. A receiver writes it before
 * the object is flushed (see `CommitOptions.sealed`), so that it is durable with the data.
 */
export function writeSeal(preamble: Uint8Array, size: number, provenance: Provenance): void {
  if (preamble.length < SEAL_BYTES) throw new RangeError(`a seal takes ${SEAL_BYTES} bytes; got ${preamble.length}`)
  if (!Number.isSafeInteger(size) || size < SEAL_BYTES) throw new RangeError(`not an object's size: ${size}`)
  // Neither line may hold a newline; an origin too long for the preamble is cut (it is only told in logs).
  const line = (text: string): string => text.replace(/[\n\0]/g, ' ')
  const text = `${MAGIC}\n${size}\n${line(provenance.source)}\n${line(provenance.origin ?? '')}`.slice(0, SEAL_BYTES)
  preamble.fill(0, 0, SEAL_BYTES)
  ascii.encodeInto(text, preamble.subarray(0, SEAL_BYTES))
}

/** What a valid seal says; undefined for a preamble that holds none (zeros, or another implementation's). */
export function readSeal(preamble: Uint8Array): { readonly size: number; readonly provenance: Provenance } | undefined {
  if (preamble.length < SEAL_BYTES) return undefined
  const end = preamble.subarray(0, SEAL_BYTES).indexOf(0)
  const lines = latin1.decode(preamble.subarray(0, end === -1 ? SEAL_BYTES : end)).split('\n')
  if (lines.length < 3 || lines[0] !== MAGIC || !/^[1-9][0-9]{0,15}$/.test(lines[1]!)) return undefined
  const size = Number(lines[1])
  const origin = lines.slice(3).join('\n')
  return { size, provenance: origin === '' ? { source: lines[2]! } : { source: lines[2]!, origin } }
}
