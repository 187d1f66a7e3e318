// NIfTI volume + reference series -> a derived DICOM series on disk: the function behind the
// stage and the CLI, usable on its own for any tool's result.
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PacsflowError, silentLogger, type Logger } from '@pacsflow/core'
import {
  groupSeries,
  invertAffine,
  lpsToRas,
  multiply,
  nearlyEqual,
  readDicomHeader,
  readNifti,
  readPart10,
  scaledData,
  type DicomInstance,
  type DicomSeries,
  type Mat4,
  type NiftiImage,
  type RawDict,
  type Vec3,
} from '@pacsflow/imaging'
import { sharedAttributes, SOP_CLASS } from './attributes.js'
import { ownGrid, referenceGrid, referenceVolume, scanLength, squarePixels, type OutputGrid } from './geometry.js'
import { resolveOptions, type DicomiseOptions, type ResolvedOptions } from './options.js'
import type { ProfileName, ProfileRule } from './profiles.js'
import type { Window } from './quantities.js'
import { chooseRescale, percentileWindow, prepareValues, type Rescale, type Values, type ValueStats } from './rescale.js'
import { formatDs, resampleToGrid, type Interpolation } from '@pacsflow/imaging'
import { buildTemplate } from './template.js'
import { fileDigest } from './file-digest.js'
import { derivedUid, seriesUids, type SeriesUids } from './uids.js'
import { version } from './version.js'
import { PER_SLICE_TAGS, writeSlices, type SliceTiming, type WrittenSlice } from './write-slices.js'

/** One encoding job. */
export interface NiftiToDicomRequest {
  /** The NIfTI-1/2 volume (.nii or .nii.gz), 3D (or 4D with one volume), in real units (scl_slope applied). */
  readonly nifti: string
  /** The series the volume belongs to: its grid, patient, study and frame of reference are used. */
  readonly reference: DicomSeries
  /** Which volume of the reference is the grid (`DicomVolume.id`; default its first). */
  readonly referenceVolume?: string
  /** Where the files go (created when missing). */
  readonly outDir: string
  /** Seeds the UIDs together with the input's content: the job id in the stage, so a rerun gets the same UIDs. */
  readonly uidSeed: string
  /** Remove `*.dcm` files already in `outDir` first (the stage's folder is its own; default false). */
  readonly clean?: boolean
  /** fsync the files before returning (default true). */
  readonly durable?: boolean
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly progress?: (fraction: number, note?: string) => void
  /** Per-phase milliseconds are added here (benchmarks). */
  readonly timing?: EncodeTiming
}

/** Milliseconds per phase (added to, so one object can sum several runs). */
export interface EncodeTiming extends SliceTiming {
  read: number
  resample: number
  /** Range, clamping, rescale and window. */
  prepare: number
  /** SHA-256 of the input, which the UIDs derive from. */
  digest: number
  /** Describing the written series (one header read back). */
  index: number
}

/** How the values were stored, so a reader can tell the quantisation step and any clamping. */
export interface EncodingReport {
  readonly quantity: string
  readonly units?: string
  /** RescaleSlope: the quantisation step, in the quantity's units. */
  readonly slope: number
  readonly intercept: number
  readonly pixel: 'signed' | 'unsigned'
  readonly rescaleType: string
  readonly window: Window
  /** Range of the values written (after clamping), in the quantity's units. */
  readonly min: number
  readonly max: number
  /** Voxels clamped by `encoding.clamp`. */
  readonly clamped: number
  /** Voxels with no data (outside the input's field of view, or non-finite), written as `fill`. */
  readonly empty: number
  readonly grid: 'reference' | 'own'
  readonly interpolation: Interpolation | 'none'
  readonly profile: ProfileName
  readonly rules: readonly ProfileRule['id'][]
}

export interface NiftiToDicomResult {
  /** The written series, indexed as any DICOM input is (files, geometry, volumes). */
  readonly series: DicomSeries
  readonly outDir: string
  readonly files: readonly string[]
  readonly encoding: EncodingReport
}

/**
 * Encodes a NIfTI volume as a derived DICOM series beside `reference`: one classic single-frame
 * file per slice, Explicit VR Little Endian, on the reference's grid (default) or the NIfTI's.
 * Throws `INVALID_OPTIONS` for bad options before reading anything.
 */
export async function niftiToDicom(request: NiftiToDicomRequest, options: DicomiseOptions = {}): Promise<NiftiToDicomResult> {
  return encodeSeries(request, resolveOptions(options))
}

/** {@link niftiToDicom} with options already resolved (the stage resolves them once, in its factory). */
export async function encodeSeries(request: NiftiToDicomRequest, options: ResolvedOptions): Promise<NiftiToDicomResult> {
  const prepared = await prepareVolume(request, options)
  const { grid, rescale, window, report, uids, refVolume } = prepared
  const log = request.log ?? silentLogger
  log.info({ nifti: request.nifti, slices: grid.slices, ...report }, 'dicomise: encoding')
  request.progress?.(0.1, 'values on the output grid')
  const dict = sharedAttributes({
    referenceDict: await referenceHeader(refVolume.frames[0]!.path),
    reference: request.reference,
    grid,
    options,
    rescale,
    window,
    seriesInstanceUid: uids.seriesInstanceUid,
    frameOfReferenceUid: frameOfReference(request.reference, options),
    seriesNumber: options.seriesNumber ?? Math.min((request.reference.seriesNumber ?? 0) + 1000, 2 ** 31 - 1),
    seriesDescription: options.seriesDescription ?? defaultDescription(options, request.reference),
    derivationDescription: derivation(options, request.reference, report),
    sliceThickness: options.profile.effects.thicknessEqualsSpacing ? grid.sliceSpacing : grid.sliceThickness,
    softwareVersions: [`pacsflow ${version}`],
    now: new Date(),
  })
  const template = buildTemplate(dict, PER_SLICE_TAGS, {
    sopClassUid: SOP_CLASS[options.modality],
    implementationClassUid: derivedUid('pacsflow implementation', version),
    implementationVersionName: `PACSFLOW_${version}`.slice(0, 16),
  })
  await prepareDir(request.outDir, request.clean === true)
  const written = await writeSlices({
    template,
    grid,
    uids,
    referenceSeriesUid: request.reference.seriesInstanceUid,
    values: prepared.values,
    layout: prepared.layout,
    rescale,
    stats: prepared.stats,
    outDir: request.outDir,
    ...(request.signal === undefined ? {} : { signal: request.signal }),
    onSlice: (done, total) => request.progress?.(0.1 + (0.85 * done) / total, `slice ${done}/${total}`),
    durable: request.durable ?? true,
    ...(request.timing === undefined ? {} : { timing: request.timing }),
  })
  const started = performance.now()
  const series = await writtenSeries(written, grid, uids)
  const files = written.map((slice) => slice.path)
  if (request.timing !== undefined) request.timing.index += performance.now() - started
  request.progress?.(1, 'written')
  log.info({ seriesInstanceUid: uids.seriesInstanceUid, files: files.length, outDir: request.outDir }, 'dicomise: series written')
  return { series, outDir: request.outDir, files, encoding: report }
}

/** Reads the NIfTI, puts its values on the output grid and chooses how to store them. */
async function prepareVolume(request: NiftiToDicomRequest, options: ResolvedOptions) {
  // The file is hashed on a worker while this thread reads, resamples and checks the values;
  // the worker stops when the job aborts or this fails first.
  const hashing = new AbortController()
  const stop = (): void => hashing.abort(request.signal?.reason)
  request.signal?.addEventListener('abort', stop, { once: true })
  const digest = fileDigest(request.nifti, hashing.signal)
  digest.catch(() => {}) // awaited below; meanwhile a failure must not count as unhandled
  try {
    const values = await valuesToStore(request, options)
    const started = performance.now()
    const uids = seriesUids(request.uidSeed, inputDigest(await digest, request, options))
    if (request.timing !== undefined) request.timing.digest += performance.now() - started
    return { ...values, uids }
  } finally {
    request.signal?.removeEventListener('abort', stop)
    hashing.abort()
  }
}

/** The values on the output grid, their range, and the rescale and window chosen for them. */
async function valuesToStore(request: NiftiToDicomRequest, options: ResolvedOptions) {
  const t0 = performance.now()
  const image = await readNifti(request.nifti)
  const input = inputVolume(image, request.nifti)
  const refVolume = referenceVolume(request.reference, request.referenceVolume)
  const { grid, exact } = planGrid(options, referenceGrid(request.reference, refVolume), image)
  const t1 = performance.now()
  const { values, interpolation, flipRows } = valuesOnGrid(input, image, grid, exact, options, request.signal)
  const t2 = performance.now()
  const stats = prepareValues(values, options, grid.rows * grid.columns)
  if (stats.empty === values.length) {
    throw new PacsflowError('DICOMISE_INPUT', `${request.nifti}: no finite value lands on the output grid (does the volume overlap the reference?)`, {
      details: { path: request.nifti },
    })
  }
  const rescale = chooseRescale(stats, options)
  const window = options.window ?? options.quantity.window ?? percentileWindow(values, stats, rescale.slope)
  if (request.timing !== undefined) {
    request.timing.read += t1 - t0
    request.timing.resample += t2 - t1
    request.timing.prepare += performance.now() - t2
  }
  const layout = { rows: grid.rows, columns: grid.columns, flipRows }
  return { grid, values, layout, stats, rescale, window, refVolume, report: encodingReport(options, rescale, window, stats, interpolation) }
}

/** The reference file's attributes, without its pixel data (only patient, study and frame of reference are copied). */
async function referenceHeader(path: string): Promise<RawDict> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw new PacsflowError('DICOMISE_REFERENCE', `the reference file ${path} cannot be read: ${(error as Error).message}`, { cause: error, details: { path } })
  }
  try {
    return readPart10(bytes, { headerOnly: true }).dict
  } catch (error) {
    throw new PacsflowError('DICOMISE_REFERENCE', `the reference file ${path} is not readable DICOM: ${(error as Error).message}`, { cause: error, details: { path } })
  }
}

/** The input's voxel values (real units) and its 3D dims; 4D inputs must hold one volume. */
function inputVolume(image: NiftiImage, path: string): { data: Values; dims: readonly [number, number, number] } {
  const dims = image.header.dims
  const extra = dims.slice(3).reduce((product, n) => product * n, 1)
  if (dims.length < 3 || extra !== 1) {
    throw new PacsflowError('DICOMISE_INPUT', `${path}: dims ${dims.join('x')}: one 3D volume is needed (split 4D data first)`, {
      details: { path, dims },
    })
  }
  const { sclSlope, sclInter } = image.header
  const unscaled = sclSlope === 0 || !Number.isFinite(sclSlope) || (sclSlope === 1 && sclInter === 0)
  // Float32 data without scaling is used as read (a fresh array of our own): no 46 MB copy.
  const data = image.data instanceof Float32Array && unscaled ? image.data : scaledData(image)
  return { data, dims: [dims[0]!, dims[1]!, dims[2]!] }
}

/**
 * The output grid: the reference's or the NIfTI's, with the profile's square pixels and size
 * limits; `exact` when it is the NIfTI's own grid unchanged (values are then copied, not resampled).
 */
function planGrid(options: ResolvedOptions, refGrid: OutputGrid, image: NiftiImage): { grid: OutputGrid; exact: boolean } {
  const [nx, ny, nz] = image.header.dims as [number, number, number]
  const base = options.grid === 'reference' ? refGrid : ownGrid(image.header.affine, [nx, ny, nz], refGrid)
  const grid = options.profile.effects.squarePixels ? squarePixels(base) : base
  const { maxSlices, maxScanLengthMm } = options.profile.effects
  const length = scanLength(grid)
  if ((maxSlices !== undefined && grid.slices > maxSlices) || (maxScanLengthMm !== undefined && length > maxScanLengthMm)) {
    throw new PacsflowError(
      'DICOMISE_PROFILE',
      `profile '${options.profile.name}' accepts at most ${maxSlices} slices and ${maxScanLengthMm} mm; the series has ${grid.slices} slices over ${length.toFixed(1)} mm`,
      { details: { profile: options.profile.name, slices: grid.slices, scanLengthMm: length } },
    )
  }
  return { grid, exact: options.grid === 'own' && grid === base }
}

/**
 * The values on the output grid, NaN where there is no data. When the output slices are the
 * NIfTI's own (its own grid, or a reference grid it was written on, the usual QSM-on-T1 case)
 * its data is used as it is, rows read last-first (DICOM's row 0 is NIfTI's last row); anything
 * else is resampled into DICOM order.
 */
function valuesOnGrid(
  input: ReturnType<typeof inputVolume>,
  image: NiftiImage,
  grid: OutputGrid,
  exact: boolean,
  options: ResolvedOptions,
  signal: AbortSignal | undefined,
): { values: Values; flipRows: boolean; interpolation: Interpolation | 'none' } {
  const target = lpsToRas(grid.affineLps)
  if (exact || sameSlices(input.dims, image.header.affine, grid, target)) return { values: input.data, flipRows: true, interpolation: 'none' }
  const values = resampleToGrid(input.data, input.dims, image.header.affine, [grid.columns, grid.rows, grid.slices], target, {
    interpolation: options.interpolation,
    fill: Number.NaN,
    ...(signal === undefined ? {} : { signal }),
  })
  return { values, flipRows: false, interpolation: options.interpolation }
}

/** True when output pixel (c, r, k) is NIfTI voxel (c, rows-1-r, k) to within 1e-6 of a voxel. */
function sameSlices(dims: readonly [number, number, number], affine: Mat4, grid: OutputGrid, target: Mat4): boolean {
  if (dims[0] !== grid.columns || dims[1] !== grid.rows || dims[2] !== grid.slices) return false
  const flip: Mat4 = [[1, 0, 0, 0], [0, -1, 0, grid.rows - 1], [0, 0, 1, 0], [0, 0, 0, 1]]
  try {
    return nearlyEqual(multiply(invertAffine(affine), target), flip, 1e-6)
  } catch {
    return false // a singular NIfTI affine: resampleToGrid reports it
  }
}

/** What the UIDs depend on besides the seed: the input file's bytes, the reference and every option. */
function inputDigest(fileSha256: string, request: NiftiToDicomRequest, options: ResolvedOptions): string {
  return createHash('sha256')
    .update(JSON.stringify([fileSha256, request.reference.seriesInstanceUid, request.referenceVolume ?? '', version]))
    .update(JSON.stringify({ ...options, profile: options.profile.name }))
    .digest('hex')
}

/**
 * The reference's FrameOfReferenceUID. A reference without one (rare) gets a UID derived from
 * its series, so every series derived from it still shares one; navigation profiles refuse it.
 */
function frameOfReference(reference: DicomSeries, options: ResolvedOptions): string {
  const uid = reference.frameOfReferenceUid ?? reference.instances[0]?.frameOfReferenceUid
  if (uid !== undefined) return uid
  if (options.profile.effects.requireFrameOfReference) {
    throw new PacsflowError('DICOMISE_REFERENCE', `reference series ${reference.seriesInstanceUid} has no FrameOfReferenceUID, which profile '${options.profile.name}' needs`, {
      details: { seriesInstanceUid: reference.seriesInstanceUid, profile: options.profile.name },
    })
  }
  return derivedUid('pacsflow-dicomise', 'frame-of-reference', reference.seriesInstanceUid)
}

function defaultDescription(options: ResolvedOptions, reference: DicomSeries): string {
  const base = `${options.quantity.name} (pacsflow)`
  const on = options.grid === 'reference' && reference.seriesDescription !== undefined ? ` on ${reference.seriesDescription}` : ''
  return `${base}${on}`.slice(0, 64)
}

/** DerivationDescription (ST, at most 1024 characters): what the values are and how they were stored. */
function derivation(options: ResolvedOptions, reference: DicomSeries, report: EncodingReport): string {
  const { quantity } = options
  const what = `${quantity.description ?? quantity.name}${quantity.units === undefined ? '' : ` in ${quantity.units}`}${options.processing === undefined ? '' : `; ${options.processing}`}`
  const refName = `series ${reference.seriesNumber ?? '?'}${reference.seriesDescription === undefined ? '' : ` "${reference.seriesDescription}"`}`
  const where =
    report.grid === 'own'
      ? `on its own grid, in the frame of reference of ${refName}`
      : report.interpolation === 'none'
        ? `on the grid of ${refName} (already on it: not resampled)`
        : `resampled (${report.interpolation}) onto the grid of ${refName}`
  const unit = quantity.units === undefined ? '' : ` ${quantity.units}`
  const clamp = options.clamp === undefined ? '' : ` Clamped to [${options.clamp[0]}, ${options.clamp[1]}]${unit} (${report.clamped} voxels).`
  const text = `${what}, ${where}. Encoded by pacsflow ${version}: value = stored * ${report.slope} + ${report.intercept} (quantisation step ${report.slope}${unit}).${clamp}`
  return text.slice(0, 1024)
}

function encodingReport(options: ResolvedOptions, rescale: Rescale, window: Window, stats: ValueStats, interpolation: Interpolation | 'none'): EncodingReport {
  return {
    quantity: options.quantity.name,
    ...(options.quantity.units === undefined ? {} : { units: options.quantity.units }),
    slope: rescale.slope,
    intercept: rescale.intercept,
    pixel: rescale.pixel,
    rescaleType: options.quantity.rescaleType ?? 'US',
    window,
    min: stats.min,
    max: stats.max,
    clamped: stats.clamped,
    empty: stats.empty,
    grid: options.grid,
    interpolation,
    profile: options.profile.name,
    rules: options.profile.rules.map((rule) => rule.id),
  }
}

async function prepareDir(dir: string, clean: boolean): Promise<void> {
  await mkdir(dir, { recursive: true })
  if (!clean) return
  for (const name of await readdir(dir)) if (name.endsWith('.dcm')) await rm(join(dir, name), { force: true })
}

/**
 * The written files as a DicomSeries, as the index reads any input. The first file is read back;
 * the others differ from it only in what the writer put in per slice (path, size, SOP Instance
 * UID, InstanceNumber, position, pixel offset), so reading 176 headers again is not needed
 * (`identity.test.ts` checks the result equals a full index of the files).
 */
async function writtenSeries(written: readonly WrittenSlice[], grid: OutputGrid, uids: SeriesUids): Promise<DicomSeries> {
  const first = await readDicomHeader(written[0]!.path)
  const frame = first.frames[0]!
  const instances = written.map((slice, k): DicomInstance => {
    if (k === 0) return first
    const position = grid.positions[k]!.map((v) => Number(formatDs(v))) as unknown as Vec3
    return {
      ...first,
      path: slice.path,
      sizeBytes: slice.sizeBytes,
      sopInstanceUid: uids.instanceUid(k),
      instanceNumber: k + 1,
      ...(first.nativePixelData === undefined ? {} : { nativePixelData: { ...first.nativePixelData, offset: slice.pixelOffset } }),
      frames: [{ ...frame, imagePositionPatient: position }],
    }
  })
  const series = groupSeries(instances)
  if (series.problems.length > 0 || series.volumes.length !== 1) {
    throw new PacsflowError('DICOMISE_INPUT', `the written series ${series.seriesInstanceUid} does not form one volume`, {
      details: { problems: series.problems },
    })
  }
  return series
}
