// Vendor scaling kept in private tags, found through their private creators (PS3.5 7.8.1).
import type { PrivateTags } from './tag-filter.js'
import { Tag } from './tags.js'
import type { Reader } from './values.js'

const PHILIPS_GROUP = 0x2005
const PHILIPS_IMAGING_001 = 'Philips MR Imaging DD 001'
const PHILIPS_IMAGING_005 = 'Philips MR Imaging DD 005'
const SIEMENS_GROUP = 0x0021
const SIEMENS_SDI = 'SIEMENS MR SDI 02'

/** The private tags the vendor readers look at (a header parse records only what is read). */
export const VENDOR_PRIVATE_TAGS: readonly PrivateTags[] = [
  { group: PHILIPS_GROUP, elements: [0x0d, 0x0e, 0x0f] },
  { group: SIEMENS_GROUP, elements: [0x06] },
]

/**
 * The block (gggg,xx00) that `creator` reserved in `group` (PS3.5 7.8.1). Philips always uses the
 * same blocks, so `usualBlock` serves when a (de-identified) file lost its creator elements.
 */
export function privateBlock(reader: Reader, group: number, creator: string, usualBlock: number): number
export function privateBlock(reader: Reader, group: number, creator: string): number | undefined
export function privateBlock(reader: Reader, group: number, creator: string, usualBlock?: number): number | undefined {
  let block: number | undefined
  // forEach, not for-of: no entry arrays or iterator results, which a cold process would allocate one by one.
  reader.dataset.forEach((element, tag) => {
    if (block !== undefined || tag >>> 16 !== group || (tag & 0xffff) < 0x10 || (tag & 0xffff) > 0xff || element.length === 0) return
    if (reader.string(tag) === creator) block = tag & 0xff
  })
  return block ?? usualBlock
}

function privateTag(group: number, block: number, element: number): number {
  return ((group << 16) | (block << 8) | element) >>> 0
}

function scaleIn(reader: Reader): { slope: number; intercept: number } | undefined {
  const block = privateBlock(reader, PHILIPS_GROUP, PHILIPS_IMAGING_001, 0x10)
  const slope = reader.number(privateTag(PHILIPS_GROUP, block, 0x0e), 'FL')
  if (slope === undefined) return undefined
  return { slope, intercept: reader.number(privateTag(PHILIPS_GROUP, block, 0x0d), 'FL') ?? 0 }
}

/**
 * Philips' floating-point scale: (2005,100E) scale slope and (2005,100D) scale intercept, the
 * floating-point value being (stored × RescaleSlope + RescaleIntercept) / (RescaleSlope × scale slope)
 * (dcm2niix's convention). Enhanced files keep it per frame in the private (2005,140F) sequence; the
 * first frame's is returned (DicomInstance has one).
 */
export function philipsScaleOf(reader: Reader): { slope: number; intercept: number } | undefined {
  const top = scaleIn(reader)
  if (top !== undefined) return top
  const firstFrame = reader.firstItem(Tag.PerFrameFunctionalGroupsSequence)
  if (firstFrame === undefined) return undefined
  const block = privateBlock(firstFrame, PHILIPS_GROUP, PHILIPS_IMAGING_005, 0x14)
  const item = firstFrame.firstItem(privateTag(PHILIPS_GROUP, block, 0x0f))
  return item === undefined ? undefined : scaleIn(item)
}

/**
 * The echo of a Siemens XA image without EchoNumbers (XA classic export): the second field of
 * its ICE dimensions, (0021,xx06) of 'SIEMENS MR SDI 02', e.g. 'X_2_1_1_1_1_1_1_1_1_1_1_198' → 2
 * (as dcm2niix reads it).
 */
export function siemensIceEcho(reader: Reader): number | undefined {
  const block = privateBlock(reader, SIEMENS_GROUP, SIEMENS_SDI)
  if (block === undefined) return undefined
  const dims = reader.string(privateTag(SIEMENS_GROUP, block, 0x06))
  const echo = dims === undefined ? undefined : /^X_(\d+)_/.exec(dims)?.[1]
  return echo === undefined ? undefined : Number(echo)
}
