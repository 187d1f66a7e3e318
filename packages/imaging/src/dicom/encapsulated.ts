// Splits encapsulated pixel data into the compressed bytes of each frame (PS3.5 A.4).
import { MalformedError, TruncatedError } from './parser.js'
import { Tag } from './tags.js'

/** One fragment: its item's offset from the first fragment's item tag (as offset tables count), and its bytes. */
interface Fragment {
  readonly position: number
  readonly bytes: Uint8Array
}

interface Items {
  readonly basicOffsetTable: number[]
  readonly fragments: Fragment[]
}

/** Reads the items of encapsulated pixel data whose value starts at `bytes[0]` (always little endian, PS3.5 A.4). */
function readItems(bytes: Uint8Array): Items {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const items: Uint8Array[] = []
  const positions: number[] = []
  let pos = 0
  for (;;) {
    if (pos + 8 > bytes.length) throw new TruncatedError('the encapsulated pixel data ends before its sequence delimiter')
    const tag = ((view.getUint16(pos, true) << 16) | view.getUint16(pos + 2, true)) >>> 0
    const length = view.getUint32(pos + 4, true)
    if (tag === Tag.SequenceDelimitationItem) break
    if (tag !== Tag.Item) throw new MalformedError(`encapsulated pixel data holds a non-item tag at byte ${pos}`)
    if (pos + 8 + length > bytes.length) throw new TruncatedError('an encapsulated pixel data fragment runs past the end of the file')
    positions.push(pos)
    items.push(bytes.subarray(pos + 8, pos + 8 + length))
    pos += 8 + length
  }
  const [table, ...fragmentItems] = items
  if (table === undefined) throw new MalformedError('encapsulated pixel data has no basic offset table item')
  const tableView = new DataView(table.buffer, table.byteOffset, table.byteLength)
  const basicOffsetTable = Array.from({ length: Math.floor(table.length / 4) }, (_, i) => tableView.getUint32(i * 4, true))
  const firstFragment = positions[1] ?? 0
  const fragments = fragmentItems.map((fragment, i) => ({ position: (positions[i + 1] ?? 0) - firstFragment, bytes: fragment }))
  return { basicOffsetTable, fragments }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

// A JPEG family codestream starts with SOI (FFD8, also JPEG-LS) or SOC (FF4F, JPEG 2000 / HTJ2K).
function startsCodestream(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && (bytes[1] === 0xd8 || bytes[1] === 0x4f)
}

/** Groups fragments into frames by start offsets (an offset table's entries). */
function byOffsets(fragments: readonly Fragment[], offsets: readonly number[]): Uint8Array[] {
  return offsets.map((start, i) => {
    const end = offsets[i + 1] ?? Number.POSITIVE_INFINITY
    const parts = fragments.filter((fragment) => fragment.position >= start && fragment.position < end).map((f) => f.bytes)
    if (parts.length === 0) throw new MalformedError(`the offset table points frame ${i} at no fragment`)
    return concat(parts)
  })
}

/**
 * The compressed bytes of each frame. The frame boundaries come from, in order: the Extended
 * Offset Table (PS3.3 C.7.6.3.1.8), the Basic Offset Table, one frame when there is one, one
 * fragment per frame when the counts match (always so for RLE, PS3.5 G.1), or codestream starts.
 */
export function splitFrames(value: Uint8Array, numberOfFrames: number, extendedOffsets?: readonly number[]): Uint8Array[] {
  const { basicOffsetTable, fragments } = readItems(value)
  if (fragments.length === 0) throw new MalformedError('encapsulated pixel data has no fragments')
  if (extendedOffsets !== undefined && extendedOffsets.length === numberOfFrames) return byOffsets(fragments, extendedOffsets)
  if (basicOffsetTable.length === numberOfFrames && numberOfFrames > 0) return byOffsets(fragments, basicOffsetTable)
  if (numberOfFrames === 1) return [concat(fragments.map((fragment) => fragment.bytes))]
  if (fragments.length === numberOfFrames) return fragments.map((fragment) => fragment.bytes)
  const starts = fragments.flatMap((fragment, i) => (startsCodestream(fragment.bytes) ? [i] : []))
  if (starts.length !== numberOfFrames || starts[0] !== 0) {
    throw new MalformedError(`cannot tell which of ${fragments.length} fragments make up each of ${numberOfFrames} frames`)
  }
  return starts.map((start, i) => concat(fragments.slice(start, starts[i + 1] ?? fragments.length).map((f) => f.bytes)))
}
