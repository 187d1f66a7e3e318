// Test helper: small synthetic MR instances (Part 10, Explicit VR Little Endian) with chosen UIDs.
import { writeFile } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { writePart10, type RawDict } from '@pacsflow/imaging'

const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4'

export interface SyntheticInstance {
  readonly study: string
  readonly series: string
  readonly sop: string
  /** Slice index: InstanceNumber k+1 and position z = k mm (default 0). */
  readonly slice?: number
  /** Changes the pixel values, so the same UIDs can carry different bytes. */
  readonly seed?: number
  /** ImagesInAcquisition (0020,1002). */
  readonly imagesInAcquisition?: number
  readonly rows?: number
}

/** The bytes of one instance: a rows x rows 16-bit image whose pixels depend on `slice` and `seed`. */
export function syntheticDicom(options: SyntheticInstance): Uint8Array {
  const rows = options.rows ?? 4
  const slice = options.slice ?? 0
  const pixels = new Uint16Array(rows * rows)
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + slice * 13 + (options.seed ?? 0) * 101) & 0xffff
  const meta: RawDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [MR_IMAGE_STORAGE] },
    '00020003': { vr: 'UI', Value: [options.sop] },
    '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
    '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.10.1'] },
  }
  const dict: RawDict = {
    '00080016': { vr: 'UI', Value: [MR_IMAGE_STORAGE] },
    '00080018': { vr: 'UI', Value: [options.sop] },
    '00080060': { vr: 'CS', Value: ['MR'] },
    '00100020': { vr: 'LO', Value: ['SPOOL-TEST'] },
    '0020000D': { vr: 'UI', Value: [options.study] },
    '0020000E': { vr: 'UI', Value: [options.series] },
    '00200011': { vr: 'IS', Value: [1] },
    '00200013': { vr: 'IS', Value: [slice + 1] },
    '00200032': { vr: 'DS', Value: [0, 0, slice] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [rows] },
    '00280011': { vr: 'US', Value: [rows] },
    '00280030': { vr: 'DS', Value: [1, 1] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [pixels.buffer] },
  }
  if (options.imagesInAcquisition !== undefined) dict['00201002'] = { vr: 'IS', Value: [options.imagesInAcquisition] }
  return writePart10({ meta, dict })
}

export async function writeSynthetic(path: string, options: SyntheticInstance): Promise<string> {
  await writeFile(path, syntheticDicom(options))
  return path
}

/** A fresh temporary folder per call, removed after the test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-spool-'))
    made.push(dir)
    return dir
  }
}

export const STUDY = '1.2.826.0.1.3680043.10.9.1'
export const SERIES_A = '1.2.826.0.1.3680043.10.9.1.1'
export const SERIES_B = '1.2.826.0.1.3680043.10.9.1.2'
export const sopOf = (series: string, slice: number): string => `${series}.${slice + 1}`
