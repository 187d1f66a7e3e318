// makeExam's options, the presets, and their validation into one resolved parameter set.
import { PacsflowError } from '@pacsflow/core'
import type { Vec3 } from './grid.js'

export type ExamPreset = 'small' | 'default'

/** A rigid movement of the head between the GRE and the T1 (rotation about the head centre, then translation). */
export interface Misalignment {
  /** Degrees about the LPS x, y and z axes, applied in that order (default 0). */
  readonly rotationDegrees?: Vec3
  /** mm along LPS x, y, z (default 0). */
  readonly translationMm?: Vec3
}

export interface T1Options {
  /** Slice orientation (default sagittal, as MPRAGE usually is). */
  readonly plane?: 'sagittal' | 'axial'
  /** Isotropic voxel size in mm (default 1, small preset 2). */
  readonly voxelMm?: number
  /** The head moved between the scans by this much (default none); recorded in truth.json. */
  readonly misalignment?: Misalignment
  /** Signal-to-noise of white matter (default 40). */
  readonly snr?: number
}

/** The GRE acquisition's physics. */
export interface AcquisitionOptions {
  /** First echo time, ms (default 4). */
  readonly te1Ms?: number
  /** Echo spacing, ms (default 6). */
  readonly dteMs?: number
  /** Field strength, T (default 3). */
  readonly b0Tesla?: number
  /** White-matter magnitude at echo 1 in stored units (default 1000; stored values are 12-bit). */
  readonly wmSignal?: number
  /** Add the smooth receiver phase offset phi0 (default true). */
  readonly receiverOffset?: boolean
  /** Add the background field of the air and bone around the brain (default true). */
  readonly backgroundField?: boolean
}

export interface ExamOptions {
  /** `small`: 64x64x48 at 3 mm; `default`: 128x128x96 at 1.5 mm (both a 192x192x144 mm field of view). */
  readonly preset?: ExamPreset
  /** Tilt the GRE slab by this many degrees (-20 to 20) about the LR then the AP axis (`true`: 15). */
  readonly oblique?: boolean | number
  /** White matter at echo 1 over the noise's standard deviation per channel (default 100; Infinity: no noise). */
  readonly snr?: number
  /** Seed of the noise and the UIDs (default 1). */
  readonly seed?: number
  /** Number of echoes (default 4). */
  readonly echoes?: number
  /** The T1-weighted series; `false` leaves it out. */
  readonly t1?: T1Options | false
  readonly acquisition?: AcquisitionOptions
  readonly signal?: AbortSignal
}

export interface ResolvedT1 {
  readonly plane: 'sagittal' | 'axial'
  readonly voxelMm: number
  readonly rotationDegrees: Vec3
  readonly translationMm: Vec3
  readonly snr: number
}

/** Every parameter, defaults filled in (what truth.json records). */
export interface ResolvedExam {
  readonly preset: ExamPreset
  readonly dims: Vec3
  readonly voxelMm: number
  readonly obliqueDegrees: number
  /** null: no noise. */
  readonly snr: number | null
  readonly seed: number
  readonly echoes: number
  readonly te1Ms: number
  readonly dteMs: number
  readonly b0Tesla: number
  readonly wmSignal: number
  readonly receiverOffset: boolean
  readonly backgroundField: boolean
  readonly t1: ResolvedT1 | null
}

const PRESETS: Readonly<Record<ExamPreset, { dims: Vec3; voxelMm: number; t1VoxelMm: number }>> = {
  small: { dims: [64, 64, 48], voxelMm: 3, t1VoxelMm: 2 },
  default: { dims: [128, 128, 96], voxelMm: 1.5, t1VoxelMm: 1 },
}

/** The T1's field of view, mm along LR, AP and SI: the whole head with room for a misalignment. */
export const T1_FIELD_OF_VIEW_MM: Vec3 = [160, 208, 176]

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `makeExam: ${message}`)
}

function inRange(value: unknown, name: string, min: number, max: number, fallback: number, integer = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalid(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function vector(value: Vec3 | undefined, name: string, limit: number): Vec3 {
  if (value === undefined) return [0, 0, 0]
  if (!Array.isArray(value) || value.length !== 3) throw invalid(`${name} must be three numbers`)
  return value.map((v, i) => inRange(v, `${name}[${i}]`, -limit, limit, 0)) as unknown as Vec3
}

function resolveT1(t1: T1Options | false | undefined, preset: ExamPreset): ResolvedT1 | null {
  if (t1 === false) return null
  if (t1 !== undefined && (typeof t1 !== 'object' || t1 === null)) throw invalid('t1 must be an object or false')
  const plane = t1?.plane ?? 'sagittal'
  if (plane !== 'sagittal' && plane !== 'axial') throw invalid(`t1.plane must be sagittal or axial, got ${String(plane)}`)
  return {
    plane,
    voxelMm: inRange(t1?.voxelMm, 't1.voxelMm', 0.5, 4, PRESETS[preset].t1VoxelMm),
    rotationDegrees: vector(t1?.misalignment?.rotationDegrees, 't1.misalignment.rotationDegrees', 20),
    translationMm: vector(t1?.misalignment?.translationMm, 't1.misalignment.translationMm', 10),
    snr: inRange(t1?.snr, 't1.snr', 1, 1e6, 40),
  }
}

/** Checks the options (INVALID_OPTIONS with the reason) and fills in the defaults. */
export function resolveExamOptions(options: ExamOptions = {}): ResolvedExam {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const preset = options.preset ?? 'default'
  if (preset !== 'small' && preset !== 'default') throw invalid(`preset must be small or default, got ${String(preset)}`)
  const oblique = options.oblique === true ? 15 : options.oblique === false || options.oblique === undefined ? 0 : options.oblique
  const snr = options.snr === Number.POSITIVE_INFINITY ? null : inRange(options.snr, 'snr', 1, 1e6, 100)
  const acquisition = options.acquisition ?? {}
  const flag = (value: unknown, name: string): boolean => {
    if (value !== undefined && typeof value !== 'boolean') throw invalid(`${name} must be true or false`)
    return value !== false
  }
  return {
    preset,
    dims: PRESETS[preset].dims,
    voxelMm: PRESETS[preset].voxelMm,
    obliqueDegrees: inRange(oblique, 'oblique', -20, 20, 0),
    snr,
    seed: inRange(options.seed, 'seed', 0, 2 ** 32 - 1, 1, true),
    echoes: inRange(options.echoes, 'echoes', 1, 16, 4, true),
    te1Ms: inRange(acquisition.te1Ms, 'acquisition.te1Ms', 0.5, 100, 4),
    dteMs: inRange(acquisition.dteMs, 'acquisition.dteMs', 0.5, 100, 6),
    b0Tesla: inRange(acquisition.b0Tesla, 'acquisition.b0Tesla', 0.1, 12, 3),
    wmSignal: inRange(acquisition.wmSignal, 'acquisition.wmSignal', 10, 3000, 1000),
    receiverOffset: flag(acquisition.receiverOffset, 'acquisition.receiverOffset'),
    backgroundField: flag(acquisition.backgroundField, 'acquisition.backgroundField'),
    t1: resolveT1(options.t1, preset),
  }
}
