// A lean DICOM Part 10 parser (PS3.10 7.1, PS3.5 7) that records where the wanted elements' values lie without decoding them.
//
// dcmjs decodes every value and walks undefined-length sequences two bytes at a time, which
// reads a Philips header at ~460 files/s; the index needs far more, so headers go through this
// parser and dcmjs is kept for whole-dataset pass-through (dcmjs.ts). A header holds hundreds of
// elements of which the index reads a few dozen: with a TagFilter, only those are recorded and
// the rest are stepped over. Every element is still walked and checked exactly as when all are
// kept (the end of an undefined-length sequence is only found that way), so a file parses, or
// fails, the same with or without a filter. The walk allocates nothing per skipped element: a
// CLI's cold process spends much of its time in it, mostly before V8 has optimised it.
import { TextDecoder } from 'node:util'
import { nodeZlib } from '@pacsflow/core'
import type { TagFilter } from './tag-filter.js'
import { IMPLICIT_VRS, Tag, TransferSyntax, tagName } from './tags.js'
import { NOT_A_VR, SHORT_VR, SQ, UN, VR_KINDS, vrName } from './vrs.js'

/** Value length meaning "undefined" (PS3.5 7.1.1): delimited sequences, items, encapsulated pixel data. */
export const UNDEFINED_LENGTH = 0xffff_ffff

/** How the bytes of one dataset (or nested sequence) are encoded. */
export interface ParseContext {
  readonly bytes: Buffer
  readonly view: DataView
  readonly littleEndian: boolean
  readonly explicit: boolean
  /** The whole stream's length: a read beyond `bytes` but within it needs more data, beyond it is truncation. */
  readonly total: number
  /** The elements recorded in datasets (all when undefined); sequence items parsed later use it too. */
  readonly keep: TagFilter | undefined
}

/** One element: where its value is, not what it is. */
export interface Element {
  readonly tag: number
  readonly vr: string
  /** Offset of the value in `ctx.bytes`. */
  readonly offset: number
  /** Value length in bytes, or UNDEFINED_LENGTH. */
  readonly length: number
  readonly ctx: ParseContext
  /** Sequence items; parsed on first access for defined-length sequences. */
  items: Dataset[] | undefined
}

export type Dataset = Map<number, Element>

/** What parsing a Part 10 file found. */
export interface ParsedFile {
  readonly meta: Dataset
  readonly dataset: Dataset
  readonly transferSyntaxUid: string
  /** The top-level pixel data element (PixelData, FloatPixelData or DoubleFloatPixelData), when present. */
  readonly pixelData?: Element
}

/** The file ends where its structure says more follows (DICOM_TRUNCATED). */
export class TruncatedError extends Error {}
/** The bytes are not a DICOM stream (DICOM_INVALID). */
export class MalformedError extends Error {}
/** Parsing needs bytes beyond the chunk read so far; read at least `needed` bytes and parse again. */
export class NeedMoreDataError extends Error {
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`)
  }
}

const MAX_DEPTH = 32
const ITEM_GROUP = 0xfffe
const ITEM = 0xe000
const ITEM_DELIMITER = 0xe00d
const SEQUENCE_DELIMITER = 0xe0dd
/** Lengths inside the walk: -1 stands for UNDEFINED_LENGTH, which as a number would be boxed (it exceeds 2^30). */
const UNDEFINED = -1

function tagOf(group: number, element: number): number {
  return ((group << 16) | element) >>> 0
}

function need(ctx: ParseContext, end: number): void {
  if (end <= ctx.bytes.length) return
  if (ctx.bytes.length < ctx.total && end <= ctx.total) throw new NeedMoreDataError(end)
  if (ctx.bytes.length < ctx.total) throw new NeedMoreDataError(ctx.total)
  throw new TruncatedError(`the file ends at byte ${ctx.bytes.length} but an element needs ${end}`)
}

/**
 * The element header that readHeader last read, besides the length it returns: one object reused,
 * since a walk reads a header per element and creating objects there is what made the GC busy.
 * `vr` is the explicit VR's two bytes, or 0 (an item or delimiter, or implicit VR: looked up when needed).
 */
const head = { group: 0, element: 0, vr: 0, value: 0 }

/** Reads the element header at `pos` into `head`; returns the value length (UNDEFINED when undefined). */
function readHeader(ctx: ParseContext, pos: number): number {
  if (pos + 8 > ctx.bytes.length) {
    need(ctx, pos + 4)
    need(ctx, pos + 8)
  }
  const { view, littleEndian } = ctx
  const group = view.getUint16(pos, littleEndian)
  head.group = group
  head.element = view.getUint16(pos + 2, littleEndian)
  head.value = pos + 8
  head.vr = 0
  if (group === ITEM_GROUP || !ctx.explicit) return uint32(view, pos + 4, littleEndian)
  const vr = ((ctx.bytes[pos + 4] as number) << 8) | (ctx.bytes[pos + 5] as number)
  const kind = VR_KINDS[vr]
  if (kind === NOT_A_VR) throw new MalformedError(`element ${tagName(tagOf(group, head.element))} at byte ${pos} has no valid VR`)
  head.vr = vr
  if (kind === SHORT_VR) return view.getUint16(pos + 6, littleEndian)
  need(ctx, pos + 12)
  head.value = pos + 12
  return uint32(view, pos + 8, littleEndian)
}

/** A 32-bit length, UNDEFINED for 0xFFFFFFFF (read signed, so that the common case stays a small integer). */
function uint32(view: DataView, at: number, littleEndian: boolean): number {
  const value = view.getInt32(at, littleEndian)
  return value >= UNDEFINED ? value : value + 0x1_0000_0000
}

/** The VR of the element `head` describes, as a string (implicit VR: from the dictionary, PS3.5 7.1.3). */
function elementVr(ctx: ParseContext, length: number): string {
  if (head.group === ITEM_GROUP) return ''
  if (ctx.explicit) return vrName(head.vr)
  return IMPLICIT_VRS.get(tagOf(head.group, head.element)) ?? (length === UNDEFINED ? 'SQ' : 'UN')
}

/** Whether an undefined-length element holds items (SQ, or UN: PS3.5 6.2.2, Implicit VR Little Endian inside). */
function holdsItems(ctx: ParseContext, vr: number): 'SQ' | 'UN' | undefined {
  if (ctx.explicit) return vr === SQ ? 'SQ' : vr === UN ? 'UN' : undefined
  const name = IMPLICIT_VRS.get(tagOf(head.group, head.element)) ?? 'SQ'
  return name === 'SQ' || name === 'UN' ? name : undefined
}

/** The context of an undefined-length UN's items: Implicit VR Little Endian, whatever the dataset's syntax. */
function implicitLittle(ctx: ParseContext): ParseContext {
  return ctx.explicit || !ctx.littleEndian ? { ...ctx, explicit: false, littleEndian: true } : ctx
}

/**
 * Walks elements from `start` until `end` or, when `delimited` (`end` unused), an item delimiter;
 * returns where the walk stopped. Elements `ctx.keep` names go into `into` (none when it is
 * undefined). With `stopAtPixelData` (top level), stops at a pixel data element, recorded, without
 * needing its value.
 */
function walkElements(
  ctx: ParseContext, start: number, end: number, delimited: boolean, depth: number, into: Dataset | undefined, stopAtPixelData: boolean,
): number {
  if (depth > MAX_DEPTH) throw new MalformedError('sequences nest deeper than 32 levels')
  const { keep, bytes } = ctx
  // Explicit VR Little Endian (nearly every file): an element that is not recorded and has a defined
  // length within the bytes is stepped over right here, without a call (V8's first tiers do not inline);
  // everything else takes the general path below, which reads and checks it the same way.
  const inline = ctx.explicit && ctx.littleEndian
  let pos = start
  while (delimited || pos < end) {
    if (inline && pos + 12 <= bytes.length) {
      const group = (bytes[pos] as number) | ((bytes[pos + 1] as number) << 8)
      const kind = VR_KINDS[((bytes[pos + 4] as number) << 8) | (bytes[pos + 5] as number)] as number
      if (group !== ITEM_GROUP && group !== 0x7fe0 && kind !== NOT_A_VR
        && (into === undefined || (keep !== undefined && !keep.has(group, (bytes[pos + 2] as number) | ((bytes[pos + 3] as number) << 8))))) {
        const length = kind === SHORT_VR ? (bytes[pos + 6] as number) | ((bytes[pos + 7] as number) << 8)
          : (bytes[pos + 8] as number) | ((bytes[pos + 9] as number) << 8) | ((bytes[pos + 10] as number) << 16) | ((bytes[pos + 11] as number) << 24)
        const next = pos + (kind === SHORT_VR ? 8 : 12) + length
        // A 4-byte length read as signed: undefined (-1) or beyond 2 GiB goes the general way.
        if (length >= 0 && next <= bytes.length) {
          pos = next
          continue
        }
      }
    }
    const length = readHeader(ctx, pos)
    const { group, element } = head
    if (group === ITEM_GROUP) {
      if (element === ITEM_DELIMITER && delimited) return head.value
      // A stray sequence delimiter after a defined-length sequence: some writers add one, DCMTK skips it.
      if (element === SEQUENCE_DELIMITER && length === 0) {
        pos = head.value
        continue
      }
      throw new MalformedError(`unexpected delimiter ${tagName(tagOf(group, element))} at byte ${pos}`)
    }
    if (stopAtPixelData && group === 0x7fe0 && (element === 0x0010 || element === 0x0008 || element === 0x0009)) {
      record(ctx, into, length)
      return pos
    }
    if (into !== undefined && (keep === undefined || keep.has(group, element))) pos = valueEnd(ctx, record(ctx, into, length), length, depth)
    else pos = skip(ctx, length, depth)
  }
  if (pos !== end) throw new MalformedError(`an element runs past the end of its item at byte ${end}`)
  return pos
}

/** Records the element `head` describes in `into`. */
function record(ctx: ParseContext, into: Dataset | undefined, length: number): Element {
  const tag = tagOf(head.group, head.element)
  const element: Element = {
    tag, vr: elementVr(ctx, length), offset: head.value, length: length === UNDEFINED ? UNDEFINED_LENGTH : length, ctx, items: undefined,
  }
  into?.set(tag, element)
  return element
}

/**
 * Moves past a recorded element's value; undefined-length sequences are parsed on the way (their end
 * is not known otherwise). `length` is the walk's (UNDEFINED for undefined): Element.length may hold
 * 0xFFFFFFFF, which makes V8 store that field as a double, and arithmetic on it would box every position.
 */
function valueEnd(ctx: ParseContext, element: Element, length: number, depth: number): number {
  if (length !== UNDEFINED) {
    const end = element.offset + length
    need(ctx, end)
    return end
  }
  if (element.vr === 'SQ' || element.vr === 'UN') {
    const items: Dataset[] = []
    const next = walkItems(element.vr === 'UN' ? implicitLittle(ctx) : ctx, element.offset, UNDEFINED, depth + 1, items)
    element.items = items
    return next
  }
  return skipFragments(ctx, element.offset)
}

/** Moves past the value of the element `head` describes, recording nothing. */
function skip(ctx: ParseContext, length: number, depth: number): number {
  const start = head.value
  if (length !== UNDEFINED) {
    need(ctx, start + length)
    return start + length
  }
  const items = holdsItems(ctx, head.vr)
  if (items === undefined) return skipFragments(ctx, start)
  return walkItems(items === 'UN' ? implicitLittle(ctx) : ctx, start, UNDEFINED, depth + 1, undefined)
}

/** Skips encapsulated pixel data items up to the sequence delimiter (PS3.5 A.4). */
function skipFragments(ctx: ParseContext, start: number): number {
  let pos = start
  for (;;) {
    const length = readHeader(ctx, pos)
    const { group, element } = head
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITER) return head.value
    if (group !== ITEM_GROUP || element !== ITEM) {
      throw new MalformedError(`encapsulated pixel data holds ${tagName(tagOf(group, element))} at byte ${pos}`)
    }
    pos = head.value + (length === UNDEFINED ? UNDEFINED_LENGTH : length)
    need(ctx, pos)
  }
}

/** Walks the items of a sequence (PS3.5 7.5), each into a new dataset pushed on `items` (none when undefined). */
function walkItems(ctx: ParseContext, start: number, length: number, depth: number, items: Dataset[] | undefined): number {
  const delimited = length === UNDEFINED
  // Not Infinity for a delimited sequence: a double there would make V8 box positions compared with it.
  const end = delimited ? UNDEFINED : start + length
  if (!delimited) need(ctx, end)
  let pos = start
  while (delimited || pos < end) {
    const itemLength = readHeader(ctx, pos)
    const { group, element } = head
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITER) {
      if (delimited) return head.value
      // Some writers end a defined-length sequence with a delimiter too (DCMTK: "for re-encoding").
      pos = head.value
      continue
    }
    if (group !== ITEM_GROUP || element !== ITEM) {
      throw new MalformedError(`sequence holds ${tagName(tagOf(group, element))} where an item belongs, at byte ${pos}`)
    }
    const itemDelimited = itemLength === UNDEFINED
    const itemEnd = itemDelimited ? UNDEFINED : head.value + itemLength
    const item: Dataset | undefined = items === undefined ? undefined : new Map()
    pos = walkElements(ctx, head.value, itemEnd, itemDelimited, depth, item, false)
    if (item !== undefined) items?.push(item)
  }
  if (pos !== end) throw new MalformedError(`a sequence item runs past the end of its sequence at byte ${end}`)
  return pos
}

/** The items of a sequence element (empty for anything else); defined-length ones are parsed now. */
export function itemsOf(element: Element | undefined): readonly Dataset[] {
  if (element === undefined) return []
  if (element.items !== undefined) return element.items
  if (element.length === 0 || (element.vr !== 'SQ' && element.vr !== 'UN')) return []
  const ctx = element.vr === 'UN' && element.ctx.explicit ? { ...element.ctx, explicit: false, littleEndian: true } : element.ctx
  const items: Dataset[] = []
  try {
    walkItems(ctx, element.offset, element.length === UNDEFINED_LENGTH ? UNDEFINED : element.length, 1, items)
    element.items = items
  } catch (error) {
    // A defined-length UN that is not a sequence after all: no items, not a broken file.
    if (element.vr === 'UN' && error instanceof MalformedError) element.items = []
    else throw error
  }
  return element.items
}

const PREAMBLE = 128

/** True when the bytes start like a Part 10 file ('DICM' after the 128-byte preamble, PS3.10 7.1). */
export function hasPart10Magic(bytes: Uint8Array): boolean {
  return bytes.length >= PREAMBLE + 4 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
}

function contextFor(bytes: Uint8Array, total: number, littleEndian: boolean, explicit: boolean, keep: TagFilter | undefined): ParseContext {
  // The same memory as a Buffer, whose latin1 decoding values.ts uses for text.
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { bytes: buffer, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), littleEndian, explicit, total, keep }
}

/** What {@link parsePart10} does. */
export interface ParseOptions {
  /** End at the top-level pixel data element, whose value need not be in the bytes. */
  readonly stopAtPixelData: boolean
  /** Record only these elements (at every depth; the file meta group is always recorded whole). */
  readonly keep?: TagFilter | undefined
}

/**
 * Parses a Part 10 file from its first `bytes` (the whole file is `total` bytes long). With
 * `stopAtPixelData`, parsing ends at the top-level pixel data element, whose value need not be
 * in `bytes`. Throws NeedMoreDataError when `bytes` is too short, TruncatedError or MalformedError.
 */
export function parsePart10(bytes: Uint8Array, total: number, options: ParseOptions): ParsedFile {
  if (!hasPart10Magic(bytes)) throw new MalformedError("no 'DICM' at byte 128: not a DICOM Part 10 file")
  const metaCtx = contextFor(bytes, total, true, true, undefined)
  // The meta group is always Explicit VR Little Endian (PS3.10 7.1); walk it until the group changes.
  const meta: Dataset = new Map()
  let pos = PREAMBLE + 4
  while (pos + 4 <= total) {
    need(metaCtx, pos + 4)
    if (metaCtx.view.getUint16(pos, true) !== 0x0002) break
    const length = readHeader(metaCtx, pos)
    pos = valueEnd(metaCtx, record(metaCtx, meta, length), length, 0)
  }
  const syntaxElement = meta.get(Tag.TransferSyntaxUID)
  if (syntaxElement === undefined) throw new MalformedError('the file meta information has no TransferSyntaxUID (0002,0010)')
  const transferSyntaxUid = asciiValue(syntaxElement)
  const { ctx, start } = datasetContext(metaCtx, pos, transferSyntaxUid, options.keep)
  const dataset: Dataset = new Map()
  const next = walkElements(ctx, start, ctx.total, false, 0, dataset, options.stopAtPixelData)
  // The walk of a whole dataset ends early only at pixel data, recorded under the tag found there.
  const pixelData = next < ctx.total ? dataset.get(tagOf(ctx.view.getUint16(next, ctx.littleEndian), ctx.view.getUint16(next + 2, ctx.littleEndian))) : undefined
  return pixelData === undefined ? { meta, dataset, transferSyntaxUid } : { meta, dataset, transferSyntaxUid, pixelData }
}

/** The dataset's context after the meta group (same bytes and DataView unless deflated). */
function datasetContext(meta: ParseContext, start: number, syntax: string, keep: TagFilter | undefined): { ctx: ParseContext; start: number } {
  const { bytes, view, total } = meta
  if (syntax === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    // PS3.5 A.5: the dataset after the meta group is raw-deflated; it has to be inflated whole.
    need(meta, total)
    let inflated: Uint8Array
    try {
      inflated = nodeZlib().inflateRawSync(bytes.subarray(start, total))
    } catch (error) {
      throw new TruncatedError(`the deflated dataset cannot be inflated: ${(error as Error).message}`)
    }
    return { ctx: contextFor(inflated, inflated.length, true, true, keep), start: 0 }
  }
  const littleEndian = syntax !== TransferSyntax.ExplicitVRBigEndian
  let explicit = syntax !== TransferSyntax.ImplicitVRLittleEndian
  // Some writers label Implicit VR data as explicit: when the first element has no VR letters, trust the bytes.
  if (explicit && start + 6 <= bytes.length && !(isVrByte(bytes[start + 4]) && isVrByte(bytes[start + 5]))) explicit = false
  return { ctx: { bytes, view, littleEndian, explicit, total, keep }, start }
}

function isVrByte(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x41 && byte <= 0x5a
}

const latin1 = new TextDecoder('latin1')

/** An element's bytes as ASCII/Latin-1 text, without trailing NUL/space padding. */
export function asciiValue(element: Element): string {
  const { bytes } = element.ctx
  return latin1.decode(bytes.subarray(element.offset, element.offset + element.length)).replace(/[\0 ]+$/, '')
}
