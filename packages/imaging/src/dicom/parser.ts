// A lean DICOM Part 10 parser (PS3.10 7.1, PS3.5 7) that records where each element's value lies without decoding it.
//
// dcmjs decodes every value and walks undefined-length sequences two bytes at a time, which
// reads a Philips header at ~460 files/s; the index needs ~10x that, so headers go through
// this parser and dcmjs is kept for whole-dataset pass-through (dcmjs.ts).
import { TextDecoder } from 'node:util'
import { inflateRawSync } from 'node:zlib'
import { IMPLICIT_VRS, Tag, TransferSyntax, tagName } from './tags.js'

/** Value length meaning "undefined" (PS3.5 7.1.1): delimited sequences, items, encapsulated pixel data. */
export const UNDEFINED_LENGTH = 0xffff_ffff

/** How the bytes of one dataset (or nested sequence) are encoded. */
export interface ParseContext {
  readonly bytes: Uint8Array
  readonly view: DataView
  readonly littleEndian: boolean
  readonly explicit: boolean
  /** The whole stream's length: a read beyond `bytes` but within it needs more data, beyond it is truncation. */
  readonly total: number
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
  items?: Dataset[]
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

// VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2, Table 7.1-1).
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
const PIXEL_TAGS = new Set<number>([Tag.PixelData, Tag.FloatPixelData, Tag.DoubleFloatPixelData])
const MAX_DEPTH = 32

function need(ctx: ParseContext, end: number): void {
  if (end <= ctx.bytes.length) return
  if (ctx.bytes.length < ctx.total && end <= ctx.total) throw new NeedMoreDataError(end)
  if (ctx.bytes.length < ctx.total) throw new NeedMoreDataError(ctx.total)
  throw new TruncatedError(`the file ends at byte ${ctx.bytes.length} but an element needs ${end}`)
}

function readTag(ctx: ParseContext, pos: number): number {
  need(ctx, pos + 4)
  return ((ctx.view.getUint16(pos, ctx.littleEndian) << 16) | ctx.view.getUint16(pos + 2, ctx.littleEndian)) >>> 0
}

function isVrByte(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x41 && byte <= 0x5a
}

interface Header {
  readonly tag: number
  readonly vr: string
  readonly length: number
  readonly valueOffset: number
}

function readHeader(ctx: ParseContext, pos: number): Header {
  const tag = readTag(ctx, pos)
  if (tag >>> 16 === 0xfffe) {
    need(ctx, pos + 8)
    return { tag, vr: '', length: ctx.view.getUint32(pos + 4, ctx.littleEndian), valueOffset: pos + 8 }
  }
  if (!ctx.explicit) {
    need(ctx, pos + 8)
    const length = ctx.view.getUint32(pos + 4, ctx.littleEndian)
    const vr = IMPLICIT_VRS.get(tag) ?? (length === UNDEFINED_LENGTH ? 'SQ' : 'UN')
    return { tag, vr, length, valueOffset: pos + 8 }
  }
  need(ctx, pos + 8)
  const b0 = ctx.bytes[pos + 4]
  const b1 = ctx.bytes[pos + 5]
  if (!isVrByte(b0) || !isVrByte(b1)) throw new MalformedError(`element ${tagName(tag)} at byte ${pos} has no valid VR`)
  const vr = String.fromCharCode(b0 as number, b1 as number)
  if (LONG_VRS.has(vr)) {
    need(ctx, pos + 12)
    return { tag, vr, length: ctx.view.getUint32(pos + 8, ctx.littleEndian), valueOffset: pos + 12 }
  }
  return { tag, vr, length: ctx.view.getUint16(pos + 6, ctx.littleEndian), valueOffset: pos + 8 }
}

interface ParseLimits {
  /** Stop (exclusive) at this offset for defined-length content. */
  readonly end: number
  /** Content ends with an item delimitation item instead of at `end`. */
  readonly delimited: boolean
  /** Top level: stop at the pixel data element without needing its value. */
  readonly stopAtPixelData: boolean
  readonly depth: number
}

/** Parses elements until `limits.end` or a delimiter; returns the dataset and where parsing stopped. */
function parseElements(ctx: ParseContext, start: number, limits: ParseLimits): { dataset: Dataset; next: number; pixelData?: Element } {
  if (limits.depth > MAX_DEPTH) throw new MalformedError('sequences nest deeper than 32 levels')
  const dataset: Dataset = new Map()
  let pos = start
  while (limits.delimited || pos < limits.end) {
    const header = readHeader(ctx, pos)
    if (header.tag === Tag.ItemDelimitationItem && limits.delimited) return { dataset, next: header.valueOffset }
    // A stray sequence delimiter after a defined-length sequence: some writers add one, DCMTK skips it.
    if (header.tag === Tag.SequenceDelimitationItem && header.length === 0) {
      pos = header.valueOffset
      continue
    }
    if (header.tag >>> 16 === 0xfffe) throw new MalformedError(`unexpected delimiter ${tagName(header.tag)} at byte ${pos}`)
    const element: Element = { tag: header.tag, vr: header.vr, offset: header.valueOffset, length: header.length, ctx }
    dataset.set(header.tag, element)
    if (limits.stopAtPixelData && PIXEL_TAGS.has(header.tag)) return { dataset, next: pos, pixelData: element }
    pos = skipValue(ctx, element, limits.depth)
  }
  if (pos !== limits.end) throw new MalformedError(`an element runs past the end of its item at byte ${limits.end}`)
  return { dataset, next: pos }
}

/** Moves past an element's value; undefined-length sequences are parsed on the way (their end is not known otherwise). */
function skipValue(ctx: ParseContext, element: Element, depth: number): number {
  if (element.length !== UNDEFINED_LENGTH) {
    const end = element.offset + element.length
    need(ctx, end)
    return end
  }
  if (element.vr === 'SQ' || element.vr === 'UN') {
    // PS3.5 6.2.2: an undefined-length UN is a sequence encoded in Implicit VR Little Endian.
    const itemCtx = element.vr === 'UN' ? { ...ctx, explicit: false, littleEndian: true } : ctx
    const { items, next } = parseItems(itemCtx, element.offset, UNDEFINED_LENGTH, depth + 1)
    element.items = items
    return next
  }
  return skipFragments(ctx, element.offset)
}

/** Skips encapsulated pixel data items up to the sequence delimiter (PS3.5 A.4). */
function skipFragments(ctx: ParseContext, start: number): number {
  let pos = start
  for (;;) {
    const header = readHeader(ctx, pos)
    if (header.tag === Tag.SequenceDelimitationItem) return header.valueOffset
    if (header.tag !== Tag.Item) throw new MalformedError(`encapsulated pixel data holds ${tagName(header.tag)} at byte ${pos}`)
    pos = header.valueOffset + header.length
    need(ctx, pos)
  }
}

/** Parses the items of a sequence (PS3.5 7.5). */
function parseItems(ctx: ParseContext, start: number, length: number, depth: number): { items: Dataset[]; next: number } {
  const items: Dataset[] = []
  const delimited = length === UNDEFINED_LENGTH
  const end = delimited ? Number.POSITIVE_INFINITY : start + length
  if (!delimited) need(ctx, end)
  let pos = start
  while (pos < end) {
    const header = readHeader(ctx, pos)
    if (header.tag === Tag.SequenceDelimitationItem) {
      if (delimited) return { items, next: header.valueOffset }
      // Some writers end a defined-length sequence with a delimiter too (DCMTK: "for re-encoding").
      pos = header.valueOffset
      continue
    }
    if (header.tag !== Tag.Item) throw new MalformedError(`sequence holds ${tagName(header.tag)} where an item belongs, at byte ${pos}`)
    const itemDelimited = header.length === UNDEFINED_LENGTH
    const itemEnd = itemDelimited ? Number.POSITIVE_INFINITY : header.valueOffset + header.length
    const parsed = parseElements(ctx, header.valueOffset, { end: itemEnd, delimited: itemDelimited, stopAtPixelData: false, depth })
    items.push(parsed.dataset)
    pos = parsed.next
  }
  if (pos !== end) throw new MalformedError(`a sequence item runs past the end of its sequence at byte ${end}`)
  return { items, next: pos }
}

/** The items of a sequence element (empty for anything else); defined-length ones are parsed now. */
export function itemsOf(element: Element | undefined): readonly Dataset[] {
  if (element === undefined) return []
  if (element.items !== undefined) return element.items
  if (element.length === 0 || (element.vr !== 'SQ' && element.vr !== 'UN')) return []
  const ctx = element.vr === 'UN' && element.ctx.explicit ? { ...element.ctx, explicit: false, littleEndian: true } : element.ctx
  try {
    element.items = parseItems(ctx, element.offset, element.length, 1).items
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

function contextFor(bytes: Uint8Array, total: number, littleEndian: boolean, explicit: boolean): ParseContext {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), littleEndian, explicit, total }
}

/**
 * Parses a Part 10 file from its first `bytes` (the whole file is `total` bytes long). With
 * `stopAtPixelData`, parsing ends at the top-level pixel data element, whose value need not be
 * in `bytes`. Throws NeedMoreDataError when `bytes` is too short, TruncatedError or MalformedError.
 */
export function parsePart10(bytes: Uint8Array, total: number, options: { stopAtPixelData: boolean }): ParsedFile {
  if (!hasPart10Magic(bytes)) throw new MalformedError("no 'DICM' at byte 128: not a DICOM Part 10 file")
  const metaCtx = contextFor(bytes, total, true, true)
  // The meta group is always Explicit VR Little Endian (PS3.10 7.1); walk it until the group changes.
  const meta: Dataset = new Map()
  let pos = PREAMBLE + 4
  while (pos + 4 <= total) {
    need(metaCtx, pos + 4)
    if (metaCtx.view.getUint16(pos, true) !== 0x0002) break
    const header = readHeader(metaCtx, pos)
    meta.set(header.tag, { tag: header.tag, vr: header.vr, offset: header.valueOffset, length: header.length, ctx: metaCtx })
    pos = skipValue(metaCtx, meta.get(header.tag) as Element, 0)
  }
  const syntaxElement = meta.get(Tag.TransferSyntaxUID)
  if (syntaxElement === undefined) throw new MalformedError('the file meta information has no TransferSyntaxUID (0002,0010)')
  const transferSyntaxUid = asciiValue(syntaxElement)
  const { ctx, start } = datasetContext(bytes, total, pos, transferSyntaxUid)
  const parsed = parseElements(ctx, start, { end: ctx.total, delimited: false, stopAtPixelData: options.stopAtPixelData, depth: 0 })
  return { meta, dataset: parsed.dataset, transferSyntaxUid, ...(parsed.pixelData === undefined ? {} : { pixelData: parsed.pixelData }) }
}

function datasetContext(bytes: Uint8Array, total: number, start: number, syntax: string): { ctx: ParseContext; start: number } {
  if (syntax === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    // PS3.5 A.5: the dataset after the meta group is raw-deflated; it has to be inflated whole.
    need(contextFor(bytes, total, true, true), total)
    let inflated: Uint8Array
    try {
      inflated = inflateRawSync(bytes.subarray(start, total))
    } catch (error) {
      throw new TruncatedError(`the deflated dataset cannot be inflated: ${(error as Error).message}`)
    }
    return { ctx: contextFor(inflated, inflated.length, true, true), start: 0 }
  }
  const littleEndian = syntax !== TransferSyntax.ExplicitVRBigEndian
  let explicit = syntax !== TransferSyntax.ImplicitVRLittleEndian
  // Some writers label Implicit VR data as explicit: when the first element has no VR letters, trust the bytes.
  if (explicit && start + 6 <= bytes.length && !(isVrByte(bytes[start + 4]) && isVrByte(bytes[start + 5]))) explicit = false
  return { ctx: contextFor(bytes, total, littleEndian, explicit), start }
}

const latin1 = new TextDecoder('latin1')

/** An element's bytes as ASCII/Latin-1 text, without trailing NUL/space padding. */
export function asciiValue(element: Element): string {
  const { bytes } = element.ctx
  return latin1.decode(bytes.subarray(element.offset, element.offset + element.length)).replace(/[\0 ]+$/, '')
}
