// Typed reads of element values (PS3.5 6.2): strings, numbers in text or binary form, sequence items.
import { TextDecoder } from 'node:util'
import { itemsOf, type Dataset, type Element } from './parser.js'
import type { TagFilter } from './tag-filter.js'
import { tagName } from './tags.js'

const latin1 = new TextDecoder('latin1')
const decoders = new Map<string, TextDecoder>()

// PS3.3 C.12.1.1.2 Defined Terms for the single-byte and Unicode repertoires, as WHATWG encodings.
const CHARSETS: Record<string, string> = {
  'ISO_IR 100': 'latin1', 'ISO 2022 IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2', 'ISO 2022 IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3', 'ISO 2022 IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4', 'ISO 2022 IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5', 'ISO 2022 IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6', 'ISO 2022 IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7', 'ISO 2022 IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8', 'ISO 2022 IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9', 'ISO 2022 IR 148': 'iso-8859-9',
  'ISO_IR 166': 'windows-874', 'ISO 2022 IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis', 'ISO 2022 IR 13': 'shift_jis',
  'ISO_IR 192': 'utf-8', GB18030: 'gb18030', GBK: 'gbk',
}

// VRs whose text may use the dataset's character set (PS3.5 6.1.2.3); the rest are ASCII.
const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN'])
// Single-valued text VRs: a backslash in them is data, not a separator (PS3.5 6.4).
const SINGLE_VALUED = new Set(['ST', 'LT', 'UT', 'UR'])

/** The decoder for a SpecificCharacterSet value; Latin-1 when absent or unknown. */
export function decoderFor(specificCharacterSet: readonly string[]): TextDecoder {
  // With code extensions (ISO 2022) the first value is the default repertoire; that covers names in practice.
  const term = specificCharacterSet.find((value) => value !== '') ?? ''
  const encoding = CHARSETS[term] ?? 'latin1'
  // The default repertoire and ISO_IR 100 are ISO 8859-1, read byte for byte (TextDecoder's 'latin1' is windows-1252).
  if (encoding === 'latin1') return latin1
  let decoder = decoders.get(encoding)
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(encoding)
    } catch {
      decoder = latin1
    }
    decoders.set(encoding, decoder)
  }
  return decoder
}

/** Reads values from a dataset (top level or a sequence item), decoding text with the file's character set. */
export class Reader {
  constructor(
    readonly dataset: Dataset,
    private readonly decoder: TextDecoder = latin1,
    /** The tags the parse recorded, when it did not record all: asking for another one is a bug, not an absent value. */
    private readonly recorded?: TagFilter,
  ) {}

  /** The same character set, another dataset (a sequence item). */
  item(dataset: Dataset): Reader {
    return new Reader(dataset, this.decoder, this.recorded)
  }

  has(tag: number): boolean {
    return this.element(tag) !== undefined
  }

  element(tag: number): Element | undefined {
    if (this.recorded !== undefined && !this.recorded.hasTag(tag)) {
      throw new Error(`${tagName(tag)} is not among the tags the header parse records (file-reader.ts HEADER_TAGS)`)
    }
    return this.dataset.get(tag)
  }

  /** All values of a text element, trimmed; [] when absent or empty. */
  strings(tag: number): string[] {
    const element = this.element(tag)
    if (element === undefined || element.length === 0) return []
    const text = this.text(element)
    // Padding is a trailing space (NUL for UI); leading spaces are insignificant except in long text.
    if (SINGLE_VALUED.has(element.vr)) return [trim(text, false)]
    if (!text.includes('\\')) return [trim(text, true)]
    return text.split('\\').map((value) => trim(value, true))
  }

  /** The value of a text element (several joined by backslashes), or undefined when absent or empty. */
  string(tag: number): string | undefined {
    const element = this.element(tag)
    if (element === undefined || element.length === 0) return undefined
    const text = this.text(element)
    // strings(tag).join('\\') without its arrays for the usual single value.
    const joined = SINGLE_VALUED.has(element.vr) ? trim(text, false)
      : text.includes('\\') ? text.split('\\').map((value) => trim(value, true)).join('\\') : trim(text, true)
    return joined === '' ? undefined : joined
  }

  /** The element's value as text, in the file's character set where its VR allows one (PS3.5 6.1.2.3). */
  private text(element: Element): string {
    const { bytes } = element.ctx
    const end = element.offset + element.length
    return this.decoder !== latin1 && TEXT_VRS.has(element.vr)
      ? this.decoder.decode(bytes.subarray(element.offset, end))
      : latin1Text(bytes, element.offset, end)
  }

  /** Numeric values, whether stored as text (DS, IS) or binary (US, SS, UL, SL, FL, FD, and UN by its length). */
  numbers(tag: number, unknownAs: 'US' | 'UL' | 'FL' | 'FD' | 'text' = 'text'): number[] {
    const element = this.element(tag)
    if (element === undefined || element.length === 0) return []
    const vr = element.vr === 'UN' ? unknownAs : element.vr
    const width = BINARY_WIDTH[vr]
    if (width === undefined) return this.textNumbers(tag)
    const { view, littleEndian } = element.ctx
    const values: number[] = []
    for (let at = element.offset; at + width <= element.offset + element.length; at += width) {
      values.push(readBinary(view, at, vr, littleEndian))
    }
    return values
  }

  private textNumbers(tag: number): number[] {
    const values: number[] = []
    const strings = this.strings(tag)
    for (let index = 0; index < strings.length; index++) {
      const value = strings[index] as string
      const parsed = Number(value)
      if (value !== '' && Number.isFinite(parsed)) values.push(parsed)
    }
    return values
  }

  /** The first numeric value (numbers(tag)[0], without its arrays), or undefined. */
  number(tag: number, unknownAs: 'US' | 'UL' | 'FL' | 'FD' | 'text' = 'text'): number | undefined {
    const element = this.element(tag)
    if (element === undefined || element.length === 0) return undefined
    const vr = element.vr === 'UN' ? unknownAs : element.vr
    const width = BINARY_WIDTH[vr]
    if (width === undefined) return firstNumber(this.text(element), element.vr)
    return width <= element.length ? readBinary(element.ctx.view, element.offset, vr, element.ctx.littleEndian) : undefined
  }

  /** Attribute tags of an AT element (PS3.5 6.2: group then element, each 16-bit). */
  attributeTags(tag: number): number[] {
    const element = this.element(tag)
    if (element === undefined) return []
    const { view, littleEndian } = element.ctx
    const tags: number[] = []
    for (let at = element.offset; at + 4 <= element.offset + element.length; at += 4) {
      tags.push(((view.getUint16(at, littleEndian) << 16) | view.getUint16(at + 2, littleEndian)) >>> 0)
    }
    return tags
  }

  /** The items of a sequence, as readers. */
  items(tag: number): Reader[] {
    return itemsOf(this.element(tag)).map((item) => this.item(item))
  }

  /** The first item of a sequence, if any. */
  firstItem(tag: number): Reader | undefined {
    const first = itemsOf(this.element(tag))[0]
    return first === undefined ? undefined : this.item(first)
  }
}

/**
 * Bytes [start, end) as Latin-1 text: a short value (most are a few bytes of ASCII) byte for byte
 * (ISO 8859-1) by Buffer, with no subarray and no TextDecoder call; a long one through the
 * TextDecoder, as it always was (whose 'latin1' is windows-1252: the same for ASCII).
 */
function latin1Text(bytes: Buffer, start: number, end: number): string {
  return end - start <= 1024 ? bytes.toString('latin1', start, end) : latin1.decode(bytes.subarray(start, end))
}

/** The first value of `text` that is a finite number, as textNumbers would find it. */
function firstNumber(text: string, vr: string): number | undefined {
  if (SINGLE_VALUED.has(vr)) return finite(trim(text, false))
  for (let start = 0; ;) {
    const end = text.indexOf('\\', start)
    const parsed = finite(trim(end < 0 ? text.slice(start) : text.slice(start, end), true))
    if (parsed !== undefined || end < 0) return parsed
    start = end + 1
  }
}

function finite(value: string): number | undefined {
  const parsed = Number(value)
  return value !== '' && Number.isFinite(parsed) ? parsed : undefined
}

function trim(value: string, leading: boolean): string {
  let start = 0
  let end = value.length
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0)) end--
  while (leading && start < end && value.charCodeAt(start) === 0x20) start++
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

const BINARY_WIDTH: Partial<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8 }

function readBinary(view: DataView, at: number, vr: string, littleEndian: boolean): number {
  switch (vr) {
    case 'US': return view.getUint16(at, littleEndian)
    case 'SS': return view.getInt16(at, littleEndian)
    case 'UL': return view.getUint32(at, littleEndian)
    case 'SL': return view.getInt32(at, littleEndian)
    case 'FL': return view.getFloat32(at, littleEndian)
    case 'SV': return Number(view.getBigInt64(at, littleEndian))
    case 'UV': return Number(view.getBigUint64(at, littleEndian))
    default: return view.getFloat64(at, littleEndian)
  }
}
