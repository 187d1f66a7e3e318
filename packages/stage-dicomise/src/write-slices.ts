// Writes one Part 10 file per slice: quantise, splice the per-slice elements into the series
// template, write atomically (each file fsynced before its rename, the folder once at the end).
import { join } from 'node:path'
import { fsyncDir, writeFileAtomic } from '@pacsflow/core'
import { elementHeader } from '@pacsflow/imaging'
import { dsElement, int16Element, isElement, sqElement, uiElement } from './elements.js'
import type { OutputGrid, SourceImage } from './geometry.js'
import { quantiseSlice, storedValue, type Rescale, type SliceLayout, type Values, type VolumeStats } from './rescale.js'
import { assembleFile, fileMeta, type SliceTemplate } from './template.js'
import type { SeriesUids } from './uids.js'

/** The elements each slice writes itself, in tag order (the template leaves room for them). */
export const PER_SLICE_TAGS = [
  0x00080018, // SOPInstanceUID (SOP Common C.12.1)
  0x00081115, // ReferencedSeriesSequence (Common Instance Reference C.12.2): the reference image it cites
  0x00082112, // SourceImageSequence (General Image C.7.6.1): the reference image at this slice
  0x00200013, // InstanceNumber: slice order, as the reference's
  0x00200032, // ImagePositionPatient (Image Plane C.7.6.2)
  0x00201041, // SliceLocation (3): position along the slice normal
  0x00280106, // SmallestImagePixelValue (Image Pixel C.7.6.3, 3)
  0x00280107, // LargestImagePixelValue
  0x7fe00010, // PixelData
] as const

export interface SliceWriteRequest {
  readonly template: SliceTemplate
  readonly grid: OutputGrid
  readonly uids: SeriesUids
  readonly referenceSeriesUid: string
  /** All slices' values (slice after slice), as `layout` says, already cleaned (prepareValues). */
  readonly values: Values
  readonly layout: SliceLayout
  readonly rescale: Rescale
  /** Each slice's value range (its stored range follows: quantisation is monotonic). */
  readonly stats: Pick<VolumeStats, 'sliceMin' | 'sliceMax'>
  readonly outDir: string
  readonly signal?: AbortSignal
  /** Called after each slice is handed to the file system. */
  readonly onSlice?: (done: number, total: number) => void
  /** Files being written at once (default 8). */
  readonly concurrency?: number
  /** fsync every file and the folder before returning (default true). */
  readonly durable?: boolean
  /** Milliseconds spent per phase, added to (for the benchmark). */
  readonly timing?: SliceTiming
}

export interface SliceTiming {
  quantise: number
  assemble: number
  write: number
  flush: number
}

/** What was written for one slice. */
export interface WrittenSlice {
  readonly path: string
  readonly sizeBytes: number
  /** Where the pixel data's value starts in the file. */
  readonly pixelOffset: number
}

/** The file name of slice k (0-based): IM0001.dcm ... in InstanceNumber order. */
export const sliceFileName = (k: number): string => `IM${String(k + 1).padStart(4, '0')}.dcm`

function referenceItems(source: SourceImage, referenceSeriesUid: string): { series: Uint8Array; image: Uint8Array } {
  const cited = [uiElement(0x00081150, source.sopClassUid), uiElement(0x00081155, source.sopInstanceUid)]
  const frame = source.frameNumber === undefined ? [] : [isElement(0x00081160, source.frameNumber)]
  return {
    series: sqElement(0x00081115, [[sqElement(0x0008114a, [cited]), uiElement(0x0020000e, referenceSeriesUid)]]),
    image: sqElement(0x00082112, [[...cited, ...frame]]),
  }
}

/**
 * The bytes of slice k: the header spliced from the template, then the pixels quantised straight
 * into the file; in `into` (a recycled buffer) when it is large enough.
 */
function sliceFile(request: SliceWriteRequest, k: number, into?: Uint8Array<ArrayBuffer>): { bytes: Uint8Array<ArrayBuffer>; pixelOffset: number } {
  const { grid, template, timing, rescale, stats } = request
  const started = performance.now()
  const position = grid.positions[k]!
  const [a, b, c, d, e, f] = grid.orientation
  const location = position[0] * (b * f - c * e) + position[1] * (c * d - a * f) + position[2] * (a * e - b * d)
  const references = referenceItems(grid.sources[k]!, request.referenceSeriesUid)
  const vr = rescale.pixel === 'signed' ? 'SS' : 'US'
  const uid = request.uids.instanceUid(k)
  const pixelBytes = grid.rows * grid.columns * 2
  const { bytes, tailOffset } = assembleFile(
    template,
    fileMeta(template, uid),
    [
      uiElement(0x00080018, uid),
      references.series,
      references.image,
      isElement(0x00200013, k + 1),
      dsElement(0x00200032, position),
      dsElement(0x00201041, [location]),
      // Quantisation is monotonic: the slice's extreme values give its extreme stored integers.
      int16Element(0x00280106, vr, storedValue(stats.sliceMin[k]!, rescale)),
      int16Element(0x00280107, vr, storedValue(stats.sliceMax[k]!, rescale)),
      elementHeader(0x7fe00010, 'OW', pixelBytes),
    ],
    pixelBytes,
    into,
  )
  const assembled = performance.now()
  // An even header length and a fresh buffer keep the view aligned; the host is little endian (checked).
  const Pixels = rescale.pixel === 'signed' ? Int16Array : Uint16Array
  quantiseSlice(request.values, k, request.layout, rescale, new Pixels(bytes.buffer, bytes.byteOffset + tailOffset, grid.rows * grid.columns))
  if (timing !== undefined) {
    timing.assemble += assembled - started
    timing.quantise += performance.now() - assembled
  }
  return { bytes, pixelOffset: tailOffset }
}

/**
 * Writes every slice, `concurrency` files in flight, checking the signal between slices. Files
 * go to a temporary name and are renamed (never half-visible); with `durable` each is fsynced
 * before its rename and the folder after the last, before this returns, which is when the
 * stage's output becomes a checkpoint.
 */
export async function writeSlices(request: SliceWriteRequest): Promise<WrittenSlice[]> {
  const { grid, outDir, timing } = request
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('writing pixel data needs a little-endian host')
  const paths = Array.from({ length: grid.slices }, (_, k) => join(outDir, sliceFileName(k)))
  const written: WrittenSlice[] = []
  const pending = new Set<Promise<void>>()
  // A file's buffer is reused once its write has finished: a fresh 128 KiB buffer per slice costs
  // its zeroing and page faults (measured: about half the header and quantise time per slice).
  const free: Uint8Array<ArrayBuffer>[] = []
  let failure: unknown
  const durable = request.durable ?? true
  const writeStarted = performance.now()
  const [quantiseBefore, assembleBefore] = [timing?.quantise ?? 0, timing?.assemble ?? 0]
  try {
    for (let k = 0; k < grid.slices && failure === undefined; k++) {
      request.signal?.throwIfAborted()
      const { bytes, pixelOffset } = sliceFile(request, k, free.pop())
      written.push({ path: paths[k]!, sizeBytes: bytes.length, pixelOffset })
      // Each file is fsynced before its rename (no second open to flush it); the folder once, after all.
      const write = writeFileAtomic(paths[k]!, bytes, { durable, syncDir: false, mkdir: false }).then(
        () => {
          pending.delete(write)
          free.push(new Uint8Array(bytes.buffer))
        },
        (error: unknown) => {
          failure ??= error
          pending.delete(write)
        },
      )
      pending.add(write)
      if (pending.size >= (request.concurrency ?? 8)) await Promise.race(pending)
      request.onSlice?.(k + 1, grid.slices)
    }
  } finally {
    // Whatever ends the loop (abort, an error), no write is left running behind the caller.
    await Promise.all(pending)
  }
  if (failure !== undefined) throw failure
  const flushStarted = performance.now()
  if (durable) await fsyncDir(outDir)
  if (timing !== undefined) {
    timing.write += flushStarted - writeStarted - (timing.quantise - quantiseBefore) - (timing.assemble - assembleBefore)
    timing.flush += performance.now() - flushStarted
  }
  return written
}
