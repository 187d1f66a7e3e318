// Loads the GRE echoes (DICOM series or NIfTI files) into arrays on one grid: magnitudes, phases in radians, TEs, B0.
import { PacsflowError } from '@pacsflow/core'
import {
  isQsmDicomInput,
  loadVolume,
  nearlyEqual,
  phaseRadiansScaling,
  phaseToRadians,
  readNifti,
  scaledData,
  voxelSizes,
  type DicomSeries,
  type Mat4,
  type QsmDicomInput,
  type QsmInput,
  type QsmNiftiInput,
  type SelectedSeries,
  type VolumeData,
} from '@pacsflow/imaging'

/** Proton gyromagnetic ratio / 2 pi, MHz/T (CODATA 2018). */
export const GAMMA_BAR_MHZ_PER_T = 42.577478518

/** The GRE as the engine needs it, with its NIfTI geometry. */
export interface LoadedGre {
  readonly dims: readonly [number, number, number]
  /** Voxel to RAS mm: what `toNifti` writes for the magnitude. */
  readonly affine: Mat4
  readonly voxelSizeMm: readonly [number, number, number]
  readonly b0DirectionVoxel: readonly [number, number, number]
  readonly magnitudes: Float32Array[]
  readonly phases: Float32Array[]
  readonly echoTimesMs: number[]
  readonly fieldStrengthT: number
  /** gamma-bar * B0 (DICOM ImagingFrequency when it is there), MHz. */
  readonly larmorMHz: number
}

function inputError(message: string, details: Record<string, unknown> = {}): PacsflowError {
  return new PacsflowError('QSM_INPUT', message, { details })
}

/** The unit B0 direction (RAS world) expressed in the voxel axes of `affine` (columns normalised). */
export function b0InVoxelAxes(affine: Mat4, b0Ras: readonly number[] = [0, 0, 1]): [number, number, number] {
  const norm = Math.hypot(b0Ras[0] ?? 0, b0Ras[1] ?? 0, b0Ras[2] ?? 0)
  if (!(norm > 0)) throw inputError(`the B0 direction must be a non-zero vector, got [${b0Ras.join(', ')}]`)
  const out = [0, 1, 2].map((c) => {
    const column = [affine[0][c as 0], affine[1][c as 0], affine[2][c as 0]]
    const length = Math.hypot(...column)
    return (column[0]! * b0Ras[0]! + column[1]! * b0Ras[1]! + column[2]! * b0Ras[2]!) / (length * norm)
  })
  return out as [number, number, number]
}

function realValues(loaded: VolumeData): Float32Array {
  const out = new Float32Array(loaded.data.length)
  for (let i = 0; i < out.length; i++) out[i] = (loaded.data[i] as number) * loaded.sclSlope + loaded.sclInter
  return out
}

/** Phase in radians from a loaded phase volume (as `toNifti`'s `phase: 'radians'` reads it). */
function phaseRadians(loaded: VolumeData, series: DicomSeries): Float32Array {
  // Philips "precise" phase values are radians already.
  if (Math.abs(loaded.sclInter + Math.PI) < 1e-3 && loaded.sclSlope > 0 && loaded.sclSlope < 0.01) return realValues(loaded)
  const first = series.instances[0]
  if (first === undefined) throw inputError('the phase series has no instances')
  const scaling = phaseRadiansScaling(first)
  const out = new Float32Array(loaded.data.length)
  if (loaded.data instanceof Float32Array) {
    // Rescale varied between slices: the values are real; undo the first slice's rescale to get stored values.
    const frame = series.volumes[0]?.frames[0]
    const slope = frame?.rescaleSlope ?? 1
    const intercept = frame?.rescaleIntercept ?? 0
    for (let i = 0; i < out.length; i++) out[i] = (((loaded.data[i] as number) - intercept) / slope) * scaling.slope + scaling.intercept
    return out
  }
  for (let i = 0; i < out.length; i++) out[i] = (loaded.data[i] as number) * scaling.slope + scaling.intercept
  return out
}

function sameGrid(a: { dims: readonly number[]; affine: Mat4 }, b: { dims: readonly number[]; affine: Mat4 }): boolean {
  return a.dims.length === b.dims.length && a.dims.every((n, i) => n === b.dims[i]) && nearlyEqual(a.affine, b.affine, 1e-3)
}

function echoTimes(selected: SelectedSeries): number[] {
  return selected.volumes.map((volume) => {
    if (volume.echoTime === undefined || !(volume.echoTime > 0)) throw inputError(`volume ${volume.id} of series ${selected.series.seriesNumber ?? ''} has no echo time`)
    return volume.echoTime
  })
}

async function loadDicom(input: QsmDicomInput, signal?: AbortSignal): Promise<LoadedGre> {
  const { magnitude, phase } = input
  if (magnitude.volumes.length === 0 || magnitude.volumes.length !== phase.volumes.length) {
    throw inputError(`the magnitude has ${magnitude.volumes.length} echoes and the phase ${phase.volumes.length}: they must match`)
  }
  const tes = echoTimes(magnitude)
  const phaseTes = echoTimes(phase)
  if (tes.some((te, e) => Math.abs(te - phaseTes[e]!) > 0.01)) {
    throw inputError(`the echo times disagree: magnitude ${tes.join(', ')} ms, phase ${phaseTes.join(', ')} ms`)
  }
  const options = signal === undefined ? {} : { signal }
  const magnitudes: Float32Array[] = []
  const phases: Float32Array[] = []
  let first: VolumeData | undefined
  for (const [e, volume] of magnitude.volumes.entries()) {
    const m = await loadVolume(magnitude.series, volume, options)
    const p = await loadVolume(phase.series, phase.volumes[e]!, options)
    first ??= m
    if (m.dims.length !== 3 || !sameGrid(m, first) || !sameGrid(p, first)) {
      throw inputError(`echo ${e + 1}: the magnitude and phase volumes are not on one 3D grid`, { magnitude: m.dims, phase: p.dims })
    }
    magnitudes.push(realValues(m))
    phases.push(phaseRadians(p, phase.series))
  }
  const grid = first as VolumeData
  const instance = magnitude.series.instances[0]
  const frequency = instance?.imagingFrequency
  const strength = instance?.magneticFieldStrength ?? (frequency === undefined ? undefined : frequency / GAMMA_BAR_MHZ_PER_T)
  if (strength === undefined || !(strength > 0)) throw inputError('the GRE has neither MagneticFieldStrength nor ImagingFrequency')
  const larmorMHz = frequency !== undefined && frequency > 0 ? frequency : GAMMA_BAR_MHZ_PER_T * strength
  return {
    dims: grid.dims as [number, number, number],
    affine: grid.affine,
    voxelSizeMm: voxelSizes(grid.affine) as unknown as [number, number, number],
    b0DirectionVoxel: b0InVoxelAxes(grid.affine),
    magnitudes,
    phases,
    echoTimesMs: tes,
    fieldStrengthT: strength,
    larmorMHz,
  }
}

/** The phase range a NIfTI's values come from: radians, or integer scanner units mapped from their range. */
function niftiPhaseRadians(values: Float32Array | Float64Array): Float32Array {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (v < min) min = v
    if (v > max) max = v
  }
  if (min >= -Math.PI - 0.01 && max <= Math.PI + 0.01) return Float32Array.from(values)
  // Siemens stores 0..4095, rescaled to -4096..4094: one cycle spans 4096 (or 8192) units.
  if (min >= -4096.5 && max <= 4096.5 && min < -2048) return phaseToRadians(values, { min: -4096, max: 4096 })
  if (min >= -0.5 && max <= 4096.5 && max > 2048) return phaseToRadians(values, { min: 0, max: 4096 })
  return phaseToRadians(values, { min, max })
}

async function loadNiftiEchoes(input: QsmNiftiInput): Promise<LoadedGre> {
  if (input.echoes.length === 0) throw inputError('the NIfTI input has no echoes')
  if (!(input.fieldStrengthT > 0)) throw inputError(`fieldStrengthT must be positive, got ${input.fieldStrengthT}`)
  const magnitudes: Float32Array[] = []
  const phases: Float32Array[] = []
  let grid: { dims: readonly number[]; affine: Mat4 } | undefined
  for (const [e, echo] of input.echoes.entries()) {
    if (!(echo.echoTimeMs > 0)) throw inputError(`echo ${e + 1} has no positive echo time`)
    const m = await readNifti(echo.magnitude)
    const p = await readNifti(echo.phase)
    const here = { dims: m.header.dims, affine: m.header.affine }
    grid ??= here
    if (here.dims.length !== 3 || !sameGrid(here, grid) || !sameGrid({ dims: p.header.dims, affine: p.header.affine }, grid)) {
      throw inputError(`echo ${e + 1}: ${echo.magnitude} and ${echo.phase} are not on the first echo's 3D grid`)
    }
    magnitudes.push(Float32Array.from(scaledData(m)))
    phases.push(niftiPhaseRadians(scaledData(p)))
  }
  const { dims, affine } = grid as { dims: readonly number[]; affine: Mat4 }
  return {
    dims: dims as unknown as [number, number, number],
    affine,
    voxelSizeMm: voxelSizes(affine) as unknown as [number, number, number],
    b0DirectionVoxel: b0InVoxelAxes(affine, input.b0Direction ?? [0, 0, 1]),
    magnitudes,
    phases,
    echoTimesMs: input.echoes.map((echo) => echo.echoTimeMs),
    fieldStrengthT: input.fieldStrengthT,
    larmorMHz: GAMMA_BAR_MHZ_PER_T * input.fieldStrengthT,
  }
}

/** Loads either kind of QSM input; QSM_INPUT when it is neither or its echoes disagree. */
export async function loadGre(input: QsmInput, signal?: AbortSignal): Promise<LoadedGre> {
  if (typeof input !== 'object' || input === null) throw inputError('the QSM input must be an object')
  if (isQsmDicomInput(input)) return loadDicom(input, signal)
  if (Array.isArray((input as QsmNiftiInput).echoes)) return loadNiftiEchoes(input)
  throw inputError('the QSM input has neither magnitude/phase series nor NIfTI echoes')
}
