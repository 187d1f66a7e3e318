// Reads a volume's pixel data into one array in NIfTI order, with the scaling dcm2niix would write.
import { PacsflowError } from '@pacsflow/core'
import { readAllFrames, readFramePixels } from '../dicom/index.js'
import { FileReads } from '../dicom/file-reader.js'
import { readFramePixelsWith } from '../dicom/pixels.js'
import type { DicomInstance } from '../dicom/types.js'
import type { Mat4 } from '../geometry/matrix.js'
import { niftiLayout, type NiftiLayoutOptions } from '../geometry/nifti-layout.js'
import { reorientData } from '../geometry/reorient.js'
import type { DicomSeries, DicomVolume, SliceRef } from '../series/types.js'

export type VoxelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array

/** A volume in memory: stored values (or floats) in NIfTI order, its RAS affine and its scaling. */
export interface VolumeData {
  /** [x, y, z], or [x, y, z, t] for several timepoints. */
  readonly dims: readonly number[]
  readonly affine: Mat4
  readonly data: VoxelArray
  /** Real value = stored * sclSlope + sclInter (as NIfTI's scl_slope/scl_inter). */
  readonly sclSlope: number
  readonly sclInter: number
}

export interface LoadVolumeOptions extends NiftiLayoutOptions {
  readonly signal?: AbortSignal
  /** Files read at once (default 8). */
  readonly concurrency?: number
}

type FramePixels = Awaited<ReturnType<typeof readFramePixels>>

/**
 * Loads a volume. Stored integers stay integers with one slope/intercept (RescaleSlope/
 * Intercept; Philips "precise" values from the private scale slope, as dcm2niix); unsigned
 * 16-bit data that fits becomes int16 (as dcm2niix); when the rescale differs between slices,
 * the values are scaled into float32 instead, since NIfTI has one scaling per file.
 */
export async function loadVolume(series: DicomSeries, volume: DicomVolume, options: LoadVolumeOptions = {}): Promise<VolumeData> {
  const layout = niftiLayout(volume, series, options)
  const instances = new Map(series.instances.map((instance) => [instance.path, instance]))
  const pixels = await readFrames(volume.frames, instances, options)
  const first = instances.get(volume.frames[0]!.path)!
  const scaling = volumeScaling(volume, series, first)

  const { rows, columns } = volume
  const planeSize = rows * columns
  const total = planeSize * volume.slices * volume.timepoints
  let target: VoxelArray = scaling.mode === 'float' ? new Float32Array(total) : newArrayLike(pixels[0]!, total)
  pixels.forEach((frame, f) => {
    const base = f * planeSize
    const ref = volume.frames[f]!
    if (frame.length < planeSize) {
      throw new PacsflowError('DICOM_TRUNCATED', `${ref.path}: frame ${ref.frame} has ${frame.length} pixels, expected ${planeSize}`, {
        details: { path: ref.path, frame: ref.frame },
      })
    }
    // NIfTI row 0 is the image's bottom row (dcm2niix's flip Y).
    for (let r = 0; r < rows; r++) {
      const source = frame.subarray(r * columns, (r + 1) * columns)
      const offset = base + (rows - 1 - r) * columns
      if (scaling.mode === 'float') {
        for (let c = 0; c < columns; c++) target[offset + c] = source[c]! * ref.rescaleSlope + ref.rescaleIntercept
      } else target.set(source, offset)
    }
  })
  // Values masked to 15 bits or fewer always fit; only full 16-bit data needs a look.
  if (target instanceof Uint16Array && (first.bitsStored <= 15 || maxOf(target) <= 32767)) {
    target = new Int16Array(target.buffer, target.byteOffset, target.length)
  }
  if (layout.reorientation !== undefined) {
    target = reorientData(target, newArrayLike(target, target.length), [columns, rows, volume.slices], layout.reorientation, volume.timepoints)
  }
  return {
    dims: volume.timepoints > 1 ? [...layout.dims, volume.timepoints] : layout.dims,
    affine: layout.affine,
    data: target,
    sclSlope: scaling.mode === 'float' ? 1 : scaling.slope,
    sclInter: scaling.mode === 'float' ? 0 : scaling.intercept,
  }
}

type Scaling = { readonly mode: 'float' } | { readonly mode: 'linear'; readonly slope: number; readonly intercept: number }

/** How the stored values of a volume become real values. */
export function volumeScaling(volume: DicomVolume, series: DicomSeries, first: DicomInstance): Scaling {
  const f0 = volume.frames[0]!
  // dcm2niix compares rescale values as C floats (FLT_EPSILON).
  const varies = volume.frames.some(
    (f) => Math.abs(f.rescaleSlope - f0.rescaleSlope) > 1.2e-7 || Math.abs(f.rescaleIntercept - f0.rescaleIntercept) > 1.2e-7,
  )
  if (varies) return { mode: 'float' }
  const philips = first.philipsScale
  if (/philips/i.test(series.manufacturer ?? first.manufacturer ?? '') && philips !== undefined && philips.slope !== 0) {
    return { mode: 'linear', ...philipsPrecise(f0.rescaleSlope, f0.rescaleIntercept, philips.slope) }
  }
  return { mode: 'linear', slope: f0.rescaleSlope, intercept: f0.rescaleIntercept }
}

/**
 * Philips "floating point" values FP = (SV * RS + RI) / (RS * SS), where SS is the private
 * scale slope (2005,100E) (Chenevert et al., "Diffusion coefficient measurement using a
 * temperature-controlled fluid...", Transl Oncol 2014, PMC3998685). Evaluated in float32 as
 * dcm2niix does, so the scaling written is bit-identical.
 */
export function philipsPrecise(rs: number, ri: number, ss: number): { slope: number; intercept: number } {
  const f = Math.fround
  const value = (sv: number): number => f(f(f(f(sv) * f(rs)) + f(ri)) / f(f(rs) * f(ss)))
  const p0 = value(0)
  const p1 = value(1)
  return p0 === p1 ? { slope: rs, intercept: ri } : { slope: f(p1 - p0), intercept: p0 }
}

async function readFrames(
  frames: readonly SliceRef[],
  instances: ReadonlyMap<string, DicomInstance>,
  options: LoadVolumeOptions,
): Promise<FramePixels[]> {
  const byPath = new Map<string, number[]>()
  frames.forEach((frame, index) => byPath.set(frame.path, [...(byPath.get(frame.path) ?? []), index]))
  const out: FramePixels[] = new Array(frames.length)
  const paths = [...byPath.keys()]
  // Directly while the files come fast (the page cache, after an index run), through the pool once they do not.
  const reads = new FileReads(true)
  let next = 0
  const worker = async (): Promise<void> => {
    for (let p = next++; p < paths.length; p = next++) {
      options.signal?.throwIfAborted()
      const path = paths[p]!
      const instance = instances.get(path)
      if (instance === undefined) throw new PacsflowError('SERIES_INCONSISTENT', `${path} is not in the series`, { details: { path } })
      const indices = byPath.get(path)!
      if (instance.numberOfFrames > 1) {
        const all = await readAllFrames(instance)
        for (const index of indices) out[index] = all[frames[index]!.frame]!
      } else {
        out[indices[0]!] = await readFramePixelsWith(instance, 0, reads)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, paths.length) }, worker))
  return out
}

function newArrayLike(like: VoxelArray | FramePixels, length: number): VoxelArray {
  const Constructor = like.constructor as new (length: number) => VoxelArray
  return new Constructor(length)
}

function maxOf(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!
  return max
}
