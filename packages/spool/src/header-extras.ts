// Attributes the fast header index does not record, read with dcmjs from the start of a file (one file per series at most).
import { open } from 'node:fs/promises'
import { isValidUid, rawValue, readPart10 } from '@pacsflow/imaging'

/** How much of a file is given to dcmjs: headers, even Siemens ones with CSA data, fit many times over. */
const PREFIX_BYTES = 4 * 1024 * 1024

export interface HeaderExtras {
  readonly studyInstanceUid?: string
  readonly seriesInstanceUid?: string
  readonly sopInstanceUid?: string
  /** ImagesInAcquisition (0020,1002), PS3.3 C.7.6.1: images that resulted from this acquisition. */
  readonly imagesInAcquisition?: number
}

async function prefixOf(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const buffer = Buffer.allocUnsafe(Math.min(size, PREFIX_BYTES))
    let filled = 0
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return buffer.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim().replace(/\0+$/, '') : undefined
}

/**
 * Reads the UIDs and ImagesInAcquisition of a Part 10 file with dcmjs, stopping at the pixel data.
 * Returns undefined when dcmjs cannot read it (not DICOM, a header longer than 4 MiB). UIDs that
 * are not valid DICOM UIDs are left out. dcmjs is slow (~2 ms a header), so this is for the rare
 * file the fast index refuses for its transfer syntax, and for one file per series.
 */
export async function readHeaderExtras(path: string): Promise<HeaderExtras | undefined> {
  let dict
  try {
    dict = readPart10(await prefixOf(path), { headerOnly: true }).dict
  } catch {
    return undefined
  }
  const out: { -readonly [K in keyof HeaderExtras]: HeaderExtras[K] } = {}
  const study = text(rawValue(dict, 0x0020_000d))
  const series = text(rawValue(dict, 0x0020_000e))
  const sop = text(rawValue(dict, 0x0008_0018))
  if (study !== undefined && isValidUid(study)) out.studyInstanceUid = study
  if (series !== undefined && isValidUid(series)) out.seriesInstanceUid = series
  if (sop !== undefined && isValidUid(sop)) out.sopInstanceUid = sop
  const images = Number(rawValue(dict, 0x0020_1002))
  if (Number.isInteger(images) && images > 0) out.imagesInAcquisition = images
  return out
}
