// The typed facade over dcmjs (which ships no types): the only module that touches its API.
import { createRequire } from 'node:module'
import { NATIVE_SYNTAXES, TransferSyntax } from './tags.js'

/** One element of a dcmjs dataset (DICOM JSON model, PS3.18 F.2): its VR and its values. */
export interface RawElement {
  vr: string
  /** Values; binary VRs (OB, OW...) hold ArrayBuffers, SQ holds RawDict items. */
  Value?: unknown[]
}

/** A dcmjs dataset keyed by 8-hex-digit tags (`'0020000D'`, `'2005100E'`); private tags included. */
export type RawDict = Record<string, RawElement>

/** A whole Part 10 file as dcmjs reads it: meta group and dataset, raw (private tags kept). */
export interface Part10Dataset {
  readonly meta: RawDict
  readonly dict: RawDict
}

interface DicomDictInstance {
  meta: RawDict
  dict: RawDict
  write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer
}

interface DcmjsApi {
  readonly log: { setLevel(level: 'silent'): void; getLogger(name: string): { setLevel(level: 'silent'): void } }
  readonly data: {
    readonly DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean }): DicomDictInstance
    }
    readonly DicomDict: new (meta: RawDict) => DicomDictInstance
    readonly DicomMetaDictionary: {
      naturalizeDataset(dict: RawDict): Record<string, unknown>
    }
  }
}

// Loaded on first use: dcmjs takes ~50 ms to load, and header indexing and uncompressed pixel
// reads (most of a conversion) never need it. Its CommonJS build keeps the facade synchronous.
let loaded: DcmjsApi | undefined
function dcmjsApi(): DcmjsApi {
  if (loaded === undefined) {
    loaded = createRequire(import.meta.url)('dcmjs') as DcmjsApi
    // dcmjs warns on the console about every private tag it meets; the SDK logs only through its Logger.
    loaded.log.setLevel('silent')
    // A named logger keeps the level it had when created, so it is silenced on its own.
    loaded.log.getLogger('validation.dcmjs').setLevel('silent')
  }
  return loaded
}

function arrayBufferOf(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/**
 * Reads a Part 10 buffer with dcmjs. `headerOnly` stops before the pixel data (7FE0,0010).
 * Throws dcmjs's own errors (callers turn them into coded ones).
 */
export function readPart10(bytes: Uint8Array | ArrayBuffer, options: { headerOnly?: boolean } = {}): Part10Dataset {
  const read = dcmjsApi().data.DicomMessage.readFile(arrayBufferOf(bytes), {
    ignoreErrors: false,
    ...(options.headerOnly === true ? { untilTag: '7FE00010', includeUntilTagValue: false } : {}),
  })
  if (options.headerOnly === true) delete read.dict['7FE00010']
  return { meta: read.meta, dict: read.dict }
}

/**
 * Keyword-named values (`StudyInstanceUID`...). dcmjs 0.50 keeps private tags under their hex key
 * (`'2005100E'`), but older versions dropped them: read private tags with {@link rawElement}.
 */
export function naturalize(dict: RawDict): Record<string, unknown> {
  return dcmjsApi().data.DicomMetaDictionary.naturalizeDataset(dict)
}

/** The dcmjs key of a tag: `0x0020000d` or `'(0020,000d)'` → `'0020000D'`. */
export function tagKey(tag: number | string): string {
  if (typeof tag === 'number') return (tag >>> 0).toString(16).padStart(8, '0').toUpperCase()
  return tag.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
}

/** An element by tag, private ones included. */
export function rawElement(dict: RawDict, tag: number | string): RawElement | undefined {
  return dict[tagKey(tag)]
}

/** The first value of an element by tag, or undefined. */
export function rawValue(dict: RawDict, tag: number | string): unknown {
  return rawElement(dict, tag)?.Value?.[0]
}

// Unit widths of the binary VRs that dcmjs keeps as raw bytes in the file's byte order (PS3.5 7.3).
const SWAP_WIDTH: Partial<Record<string, number>> = { OW: 2, OL: 4, OF: 4, OD: 8, OV: 8 }

function swapped(buffer: ArrayBuffer, width: number): ArrayBuffer {
  const source = new Uint8Array(buffer)
  const out = new Uint8Array(source.length)
  for (let at = 0; at + width <= source.length; at += width) {
    for (let k = 0; k < width; k++) out[at + k] = source[at + width - 1 - k] as number
  }
  return out.buffer
}

/** A copy of a big-endian dataset whose raw binary values are little endian. */
function toLittleEndian(dict: RawDict): RawDict {
  const out: RawDict = {}
  for (const [key, element] of Object.entries(dict)) {
    const width = SWAP_WIDTH[element.vr]
    if (width !== undefined && element.Value !== undefined) {
      out[key] = { ...element, Value: element.Value.map((value) => (value instanceof ArrayBuffer ? swapped(value, width) : value)) }
    } else if (element.vr === 'SQ' && element.Value !== undefined) {
      out[key] = { ...element, Value: element.Value.map((item) => toLittleEndian(item as RawDict)) }
    } else {
      out[key] = element
    }
  }
  return out
}

/**
 * Writes a dataset as a Part 10 file in Explicit VR Little Endian. Encapsulated (compressed)
 * pixel data keeps its transfer syntax, whose datasets are Explicit VR Little Endian too.
 * Never deflates (dcmjs's deflated output is not valid).
 */
export function writePart10(dataset: Part10Dataset): Uint8Array {
  const syntax = String(rawValue(dataset.meta, '00020010') ?? '')
  const keep = syntax !== '' && !NATIVE_SYNTAXES.has(syntax)
  const meta: RawDict = { ...dataset.meta, '00020010': { vr: 'UI', Value: [keep ? syntax : TransferSyntax.ExplicitVRLittleEndian] } }
  delete meta['00020000']
  const out = new (dcmjsApi().data.DicomDict)(meta)
  out.dict = syntax === TransferSyntax.ExplicitVRBigEndian ? toLittleEndian(dataset.dict) : dataset.dict
  return new Uint8Array(out.write({ allowInvalidVRLength: false, fragmentMultiframe: false }))
}
