// Native DICOM to NIfTI: one NIfTI per volume plus a BIDS-style JSON sidecar, judged against dcm2niix.
import { join } from 'node:path'
import { writeFileAtomic } from '@pacsflow/core'
import type { Mat4 } from '../geometry/matrix.js'
import { writeNifti } from '../nifti/index.js'
import type { DicomSeries, DicomVolume } from '../series/types.js'
import { loadVolume, type LoadVolumeOptions, type VolumeData } from './load-volume.js'
import { phaseRadiansScaling } from './phase.js'
import { bidsSidecar } from './sidecar.js'

export interface ToNiftiOptions extends LoadVolumeOptions {
  /** Folder the files go to (created when missing). */
  readonly outDir: string
  /** Write `.nii.gz` instead of `.nii` (default false). */
  readonly gzip?: boolean
  /**
   * `'native'` (default) keeps the scanner's phase scaling, as dcm2niix; `'radians'` writes the
   * same stored values with a scaling that reads as radians in [-pi, pi).
   */
  readonly phase?: 'native' | 'radians'
  /** Which volumes to write (default: all). */
  readonly filter?: (volume: DicomVolume) => boolean
  /** The file name without extension (default: `<SeriesNumber>_<Protocol>[_e<N>][_ph]`). */
  readonly name?: (series: DicomSeries, volume: DicomVolume) => string
  /** Write the JSON sidecar (default true). */
  readonly sidecar?: boolean
  /**
   * fsync each file and the folder (default true, what a pipeline stage needs). The command line
   * passes false, as dcm2niix writes: files still appear whole (temporary name, then rename).
   */
  readonly durable?: boolean
}

/** What `toNifti` wrote for one volume. */
export interface NiftiOutput {
  readonly volumeId: string
  readonly niftiPath: string
  readonly sidecarPath?: string
  readonly dims: readonly number[]
  readonly affine: Mat4
  readonly echoNumber?: number
  /** Milliseconds. */
  readonly echoTime?: number
  readonly complexComponent?: DicomVolume['complexComponent']
  readonly sclSlope: number
  readonly sclInter: number
}

/** Converts every volume of a series (or those `filter` keeps) and returns what it wrote. */
export async function toNifti(series: DicomSeries, options: ToNiftiOptions): Promise<NiftiOutput[]> {
  const outputs: NiftiOutput[] = []
  const used = new Set<string>()
  for (const volume of series.volumes) {
    if (options.filter !== undefined && !options.filter(volume)) continue
    options.signal?.throwIfAborted()
    let name = sanitize((options.name ?? defaultName)(series, volume))
    for (let n = 2; used.has(name); n++) name = `${sanitize((options.name ?? defaultName)(series, volume))}_${n}`
    used.add(name)
    outputs.push(await volumeToNifti(series, volume, join(options.outDir, `${name}.nii${options.gzip === true ? '.gz' : ''}`), options))
  }
  return outputs
}

/** Converts one volume to `niftiPath` (and its sidecar beside it, `.json`). */
export async function volumeToNifti(
  series: DicomSeries,
  volume: DicomVolume,
  niftiPath: string,
  options: Omit<ToNiftiOptions, 'outDir'> = {},
): Promise<NiftiOutput> {
  const loaded = await loadVolume(series, volume, options)
  const data = options.phase === 'radians' && volume.complexComponent === 'phase' ? inRadians(loaded, series) : loaded
  await writeNifti(niftiPath, {
    data: data.data,
    dims: data.dims,
    affine: data.affine,
    sclSlope: data.sclSlope,
    sclInter: data.sclInter,
    description: describe(volume),
    ...(volume.timepoints > 1 && series.instances[0]?.repetitionTime !== undefined
      ? { pixdim: [0, 0, 0, series.instances[0].repetitionTime / 1000] }
      : {}),
  }, { durable: options.durable ?? true })
  let sidecarPath: string | undefined
  if (options.sidecar ?? true) {
    sidecarPath = niftiPath.replace(/\.nii(\.gz)?$/, '.json')
    await writeFileAtomic(sidecarPath, `${JSON.stringify(bidsSidecar(series, volume), null, 2)}\n`, { durable: options.durable ?? true })
  }
  return {
    volumeId: volume.id,
    niftiPath,
    ...(sidecarPath === undefined ? {} : { sidecarPath }),
    dims: data.dims,
    affine: data.affine,
    ...(volume.echoNumber === undefined ? {} : { echoNumber: volume.echoNumber }),
    ...(volume.echoTime === undefined ? {} : { echoTime: volume.echoTime }),
    ...(volume.complexComponent === undefined ? {} : { complexComponent: volume.complexComponent }),
    sclSlope: data.sclSlope,
    sclInter: data.sclInter,
  }
}

/** Keeps the stored integers and replaces the scaling with one that reads as radians. */
function inRadians(loaded: VolumeData, series: DicomSeries): VolumeData {
  if (loaded.data instanceof Float32Array) return loaded
  // Philips "precise" phase values are radians already (slope ~ 2pi / range, intercept ~ -pi).
  if (Math.abs(loaded.sclInter + Math.PI) < 1e-3 && loaded.sclSlope > 0 && loaded.sclSlope < 0.01) return loaded
  const scaling = phaseRadiansScaling(series.instances[0]!)
  return { ...loaded, sclSlope: scaling.slope, sclInter: scaling.intercept }
}

function defaultName(series: DicomSeries, volume: DicomVolume): string {
  const base = `${series.seriesNumber ?? 0}_${series.protocolName ?? series.seriesDescription ?? 'series'}`
  const echo =
    volume.echoNumber !== undefined && (series.echoNumbers.length > 1 || volume.echoNumber > 1) ? `_e${volume.echoNumber}` : ''
  const component =
    volume.complexComponent === 'phase' ? '_ph' : volume.complexComponent === 'real' ? '_real' : volume.complexComponent === 'imaginary' ? '_imaginary' : ''
  return `${base}${echo}${component}`
}

function describe(volume: DicomVolume): string {
  return [volume.echoTime === undefined ? undefined : `TE=${volume.echoTime}`, volume.complexComponent, 'pacsflow']
    .filter((part) => part !== undefined)
    .join(';')
}

/** Names from scanner text, safe on every file system. */
function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120) || 'series'
}
