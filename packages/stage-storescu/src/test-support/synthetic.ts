// Synthetic DICOM instances from a real template: new UIDs and a new pixel array of any size, streamed to disk.
import { randomUUID } from 'node:crypto'
import { open } from 'node:fs/promises'
import { writePart10, type Part10Dataset, type RawDict } from '@pacsflow/imaging'

/** A UID under the 2.25 root (PS3.5 B.2): a UUID as one decimal number. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`
}

export interface SyntheticInstance {
  readonly rows: number
  readonly columns: number
  /** Frames of 16-bit pixels (more than 1 writes NumberOfFrames). */
  readonly frames?: number
  readonly sopInstanceUid?: string
  readonly seriesInstanceUid?: string
  readonly instanceNumber?: number
}

/**
 * Writes `template` with new UIDs and a rows x columns x frames 16-bit pixel array whose values
 * depend on the instance number. The header goes through dcmjs; the pixel data is appended
 * frame by frame, so a 268 MB instance never sits in memory.
 */
export async function writeSyntheticInstance(path: string, template: Part10Dataset, spec: SyntheticInstance): Promise<string> {
  const sop = spec.sopInstanceUid ?? newUid()
  const frames = spec.frames ?? 1
  const dict: RawDict = {
    ...template.dict,
    '00080018': { vr: 'UI', Value: [sop] },
    '0020000E': { vr: 'UI', Value: [spec.seriesInstanceUid ?? newUid()] },
    '00200013': { vr: 'IS', Value: [spec.instanceNumber ?? 1] },
    '00280010': { vr: 'US', Value: [spec.rows] },
    '00280011': { vr: 'US', Value: [spec.columns] },
    ...(frames > 1 ? { '00280008': { vr: 'IS', Value: [frames] } } : {}),
  }
  delete dict['7FE00010']
  const header = writePart10({ meta: { ...template.meta, '00020003': { vr: 'UI', Value: [sop] } }, dict })
  const frameBytes = spec.rows * spec.columns * 2
  const element = Buffer.alloc(12)
  element.writeUInt16LE(0x7fe0, 0)
  element.writeUInt16LE(0x0010, 2)
  element.write('OW', 4, 'latin1')
  element.writeUInt32LE(frameBytes * frames, 8)
  const file = await open(path, 'w')
  try {
    await file.write(header)
    await file.write(element)
    const frame = new Uint16Array(spec.rows * spec.columns)
    for (let index = 0; index < frames; index++) {
      for (let k = 0; k < frame.length; k++) frame[k] = (k * 7 + index * 13 + (spec.instanceNumber ?? 1)) & 0x0fff
      await file.write(new Uint8Array(frame.buffer))
    }
  } finally {
    await file.close()
  }
  return sop
}
