// What several benches share: the median, random 2.25 UIDs, and synthetic DICOM instances streamed to disk.
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { writePart10, type Part10Dataset } from '@pacsflow/imaging'

/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** A random UID under 2.25 (PS3.5 B.2). */
export const randomUid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`

/**
 * The template with new UIDs and a rows x columns x frames 16-bit pixel array, the pixels streamed
 * to disk frame by frame (a 268 MB instance never sits in memory). Returns the file's size in bytes.
 */
export async function writeInstance(path: string, base: Part10Dataset, rows: number, columns: number, frames: number, series: string, n: number): Promise<number> {
  const sop = randomUid()
  const dict = { ...base.dict, '00080018': { vr: 'UI', Value: [sop] }, '0020000E': { vr: 'UI', Value: [series] }, '00200013': { vr: 'IS', Value: [n] },
    '00280010': { vr: 'US', Value: [rows] }, '00280011': { vr: 'US', Value: [columns] }, ...(frames > 1 ? { '00280008': { vr: 'IS', Value: [frames] } } : {}) }
  delete (dict as Record<string, unknown>)['7FE00010']
  const header = writePart10({ meta: { ...base.meta, '00020003': { vr: 'UI', Value: [sop] } }, dict })
  const element = Buffer.alloc(12)
  element.writeUInt32LE(0x00107fe0, 0)
  element.write('OW', 4, 'latin1')
  element.writeUInt32LE(rows * columns * 2 * frames, 8)
  const file = await open(path, 'w')
  const frame = new Uint16Array(rows * columns)
  try {
    await file.write(header)
    await file.write(element)
    for (let f = 0; f < frames; f++) {
      for (let k = 0; k < frame.length; k++) frame[k] = (k * 7 + f * 13 + n) & 0x0fff
      await file.write(new Uint8Array(frame.buffer))
    }
  } finally {
    await file.close()
  }
  return header.length + 12 + rows * columns * 2 * frames
}

/** `count` single-frame size x size instances of one new series in `dir`: their paths and total bytes. */
export async function makeSet(dir: string, base: Part10Dataset, count: number, size: number): Promise<{ files: string[]; bytes: number }> {
  mkdirSync(dir, { recursive: true })
  const series = randomUid()
  const files: string[] = []
  let bytes = 0
  for (let n = 0; n < count; n++) {
    const path = join(dir, `f${String(n).padStart(4, '0')}.dcm`)
    bytes += await writeInstance(path, base, size, size, 1, series, n + 1)
    files.push(path)
  }
  return { files, bytes }
}
