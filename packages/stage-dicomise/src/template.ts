// One header template per series: dcmjs encodes the attributes every slice shares once, and each
// file is those bytes spliced with the few elements that change per slice (dcmjs's own per-file
// write managed ~750 files/s for a 256x256 slice, below the 800 slices/s this stage must reach).
import { encodeFileMeta, TransferSyntax, writePart10, type RawDict } from '@pacsflow/imaging'

/** The shared attributes, encoded between the per-slice tags. */
export interface SliceTemplate {
  /** Per-slice tags, ascending (`0x00080018`, ...); PixelData last. */
  readonly dynamicTags: readonly number[]
  /** `runs[i]` holds the shared elements before `dynamicTags[i]`; the last run follows the last tag. */
  readonly runs: readonly Uint8Array[]
  readonly sopClassUid: string
  readonly implementationClassUid: string
  readonly implementationVersionName: string
}

/** Room left in a new file buffer for later slices' longer numbers (positions, UIDs) to fit. */
const SPARE_BYTES = 256

const META_ONLY: RawDict = {
  '00020002': { vr: 'UI', Value: ['1.2'] },
  '00020003': { vr: 'UI', Value: ['1.2'] },
}

/**
 * Splits `dict` (no per-slice tag in it) at `dynamicTags` and encodes each run with dcmjs. Each
 * run is written as its own Part 10 file and its dataset bytes taken after the meta group, whose
 * length (0002,0000) dcmjs writes first (PS3.10 7.1).
 */
export function buildTemplate(
  dict: RawDict,
  dynamicTags: readonly number[],
  identity: { sopClassUid: string; implementationClassUid: string; implementationVersionName: string },
): SliceTemplate {
  const sorted = [...dynamicTags].sort((a, b) => a - b)
  const runs: RawDict[] = sorted.map(() => ({}))
  runs.push({})
  for (const [key, element] of Object.entries(dict)) {
    const tag = Number.parseInt(key, 16)
    if (sorted.includes(tag)) throw new RangeError(`tag ${key} is per-slice and cannot be in the template`)
    const run = sorted.findIndex((dynamic) => tag < dynamic)
    runs[run === -1 ? sorted.length : run]![key] = element
  }
  return { dynamicTags: sorted, runs: runs.map(datasetBytes), ...identity }
}

function datasetBytes(dict: RawDict): Uint8Array {
  if (Object.keys(dict).length === 0) return new Uint8Array(0)
  const file = writePart10({ meta: META_ONLY, dict })
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  // 128-byte preamble, 'DICM', then (0002,0000) UL: tag 4 + VR 2 + length 2 + value 4 bytes.
  if (view.getUint32(132, true) !== 0x00000002) throw new Error('dcmjs wrote no file meta group length')
  const metaEnd = 144 + view.getUint32(140, true)
  return file.slice(metaEnd)
}

/**
 * The preamble and File Meta Information (PS3.10 7.1): version 00\01, the SOP class and
 * instance, Explicit VR Little Endian (never deflated), and this implementation's class UID and
 * version name.
 */
export function fileMeta(template: SliceTemplate, sopInstanceUid: string): Uint8Array {
  return encodeFileMeta({
    sopClassUid: template.sopClassUid,
    sopInstanceUid,
    transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    implementationClassUid: template.implementationClassUid,
    implementationVersionName: template.implementationVersionName,
  })
}

/**
 * A whole file: meta, then the runs interleaved with this slice's elements (`dynamic[i]` is the
 * encoded element for `dynamicTags[i]`, or empty to leave it out), then `tail` bytes left for
 * the caller to fill (the pixel data's value, after its element header). The bytes are the start
 * of `into` when it is large enough (a buffer the caller recycles; every byte but the tail is
 * overwritten), else of a new buffer with room to spare for a slightly longer next file.
 */
export function assembleFile(
  template: SliceTemplate,
  meta: Uint8Array,
  dynamic: readonly Uint8Array[],
  tail = 0,
  into?: Uint8Array<ArrayBuffer>,
): { bytes: Uint8Array<ArrayBuffer>; tailOffset: number } {
  if (dynamic.length !== template.dynamicTags.length) throw new RangeError('one element (or an empty one) per per-slice tag')
  let length = meta.length + tail
  template.runs.forEach((run, i) => (length += run.length + (dynamic[i]?.length ?? 0)))
  const bytes = (into !== undefined && into.length >= length ? into : new Uint8Array(length + SPARE_BYTES)).subarray(0, length)
  bytes.set(meta, 0)
  let at = meta.length
  template.runs.forEach((run, i) => {
    bytes.set(run, at)
    at += run.length
    const element = dynamic[i]
    if (element !== undefined) {
      bytes.set(element, at)
      at += element.length
    }
  })
  return { bytes, tailOffset: at }
}
