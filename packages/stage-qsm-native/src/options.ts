// The options of the native QSM stage, their defaults, and their validation (INVALID_OPTIONS at once).
import { PacsflowError } from '@pacsflow/core'
import { defaultFftThreads } from '@pacsflow/imaging'
import type { BrainMaskOptions } from './brain-mask.js'
import type { PhaseOffset } from './echo-fit.js'
import { RTS_DEFAULTS } from './inversion.js'
import { SINGLE_STEP_DEFAULTS } from './single-step.js'
import type { LaplacianForm } from './unwrap.js'

/** Single-step parameters (see `singleStepQsm`). */
export interface SingleStepParameters {
  readonly radiiMm?: readonly number[]
  readonly lambda?: number
  readonly reweightings?: number
  readonly iterations?: number
}

/** RTS parameters (QSM.jl's defaults, which QSMxT uses). */
export interface RtsParameters {
  readonly delta?: number
  readonly mu?: number
  readonly rho?: number
  readonly tolerance?: number
  readonly maxIterations?: number
  readonly lsmrIterations?: number
}

export interface QsmNativeOptions {
  /** The stage's name (default `'qsm-native'`). */
  readonly name?: string
  /**
   * The brain mask: computed from the magnitude (options of `brainMask`, the default), or a
   * NIfTI file (any grid in the same world; resampled nearest-neighbour onto the GRE grid).
   */
  readonly mask?: BrainMaskOptions | { readonly file: string }
  /** How Laplacian unwrapping estimates the phase Laplacian (default `'wrapped'`, see `laplacianUnwrap`). */
  readonly unwrapping?: LaplacianForm
  /** Fit the receiver phase offset (default `'fit'`; `'none'` allows a single echo). */
  readonly phaseOffset?: PhaseOffset
  /**
   * Background field removal (default `'single-step'`, see the README for the measurements):
   * `'single-step'` fits the tissue's susceptibility with the background removed inside the model
   * and hands its field to the inversion; `'pdf'` and `'vsharp'` remove it from the field first.
   */
  readonly background?: 'single-step' | 'vsharp' | 'pdf'
  readonly singleStep?: SingleStepParameters
  /** V-SHARP ball radii, mm (default see `DEFAULT_VSHARP_RADII_MM`). */
  readonly vsharpRadiiMm?: readonly number[]
  /** V-SHARP deconvolution threshold (default 0.05). */
  readonly vsharpThreshold?: number
  /** PDF conjugate-gradient iterations (default 20). */
  readonly pdfIterations?: number
  /**
   * Dipole inversion (default `'rts'`). `'single-step'` takes the single-step fit's susceptibility
   * as it is (only with `background: 'single-step'`): the most accurate path on the testkit's exams.
   */
  readonly inversion?: 'rts' | 'tkd' | 'single-step'
  readonly rts?: RtsParameters
  /** TKD threshold (default 0.15). */
  readonly tkdThreshold?: number
  /** Zero padding around the mask's bounding box for the FFTs, mm (default 12). */
  readonly paddingMm?: number
  /** Write the NIfTI files gzipped (default false). */
  readonly gzip?: boolean
  /**
   * Threads the large FFTs are split across, this one included (default: the cores Node may use,
   * at most 4; 1: no worker threads). The FFT worker pool is one per process (see `startFftThreads`).
   */
  readonly threads?: number
}

/** LSMR iterations of RTS step 1: QSM.jl's 4 stop too early on the testkit's exams (see the README). */
export const DEFAULT_LSMR_ITERATIONS = 20

/**
 * RTS step 2's data weight: QSM.jl's 1e5 holds the well-conditioned k-space as a hard constraint,
 * noise included; 1e3 lets TV smooth it a little. Measured on the testkit's default exam (PDF + RTS,
 * axial NRMSE / HFEN): 1e2 59.4 / 50.5, 3e2 50.6 / 35.4, 1e3 50.6 / 34.1, 3e3 51.8 / 35.0, 1e5 52.2 / 35.1.
 */
export const DEFAULT_RTS_MU = 1e3

/** The largest V-SHARP radius, chosen by measurement on the testkit's default exam (see the README). */
export const DEFAULT_VSHARP_RADII_MM: readonly number[] = [6, 4.5, 3, 1.5]

export interface ResolvedOptions {
  readonly name: string
  readonly mask: BrainMaskOptions | { readonly file: string }
  readonly unwrapping: LaplacianForm
  readonly phaseOffset: PhaseOffset
  readonly background: 'single-step' | 'vsharp' | 'pdf'
  readonly singleStep: Required<SingleStepParameters>
  readonly vsharpRadiiMm: readonly number[]
  readonly vsharpThreshold: number
  readonly pdfIterations: number
  readonly inversion: 'rts' | 'tkd' | 'single-step'
  readonly rts: Required<RtsParameters>
  readonly tkdThreshold: number
  readonly paddingMm: number
  readonly gzip: boolean
  readonly threads: number
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `qsmNative: ${message}`)
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return value as T
}

function number(value: unknown, name: string, min: number, max: number, fallback: number, integer = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalid(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function maskOption(value: unknown): BrainMaskOptions | { readonly file: string } {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) throw invalid('mask must be an object')
  if ('file' in value) {
    const file = (value as { file: unknown }).file
    if (typeof file !== 'string' || file === '') throw invalid('mask.file must be a path')
    return { file }
  }
  const m = value as BrainMaskOptions
  if (m.threshold !== undefined && m.threshold !== 'otsu') number(m.threshold, 'mask.threshold', 0, 1, 0)
  number(m.openingMm, 'mask.openingMm', 0, 50, 0)
  number(m.erodeMm, 'mask.erodeMm', 0, 50, 0)
  if (m.fillHoles !== undefined && typeof m.fillHoles !== 'boolean') throw invalid('mask.fillHoles must be true or false')
  return m
}

function radii(value: unknown, name: string, fallback: readonly number[]): readonly number[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${name} must be a non-empty array of radii in mm`)
  return value.map((r, i) => number(r, `${name}[${i}]`, 0.1, 50, 0))
}

function singleStepOption(value: unknown): Required<SingleStepParameters> {
  if (value !== undefined && (typeof value !== 'object' || value === null)) throw invalid('singleStep must be an object')
  const s = (value ?? {}) as SingleStepParameters
  return {
    radiiMm: radii(s.radiiMm, 'singleStep.radiiMm', SINGLE_STEP_DEFAULTS.radiiMm),
    lambda: number(s.lambda, 'singleStep.lambda', 1e-9, 1, SINGLE_STEP_DEFAULTS.lambda),
    reweightings: number(s.reweightings, 'singleStep.reweightings', 1, 100, SINGLE_STEP_DEFAULTS.reweightings, true),
    iterations: number(s.iterations, 'singleStep.iterations', 1, 1000, SINGLE_STEP_DEFAULTS.iterations, true),
  }
}

/** Validates the options and fills in the defaults; throws INVALID_OPTIONS naming the bad one. */
export function resolveOptions(options: QsmNativeOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const name = options.name ?? 'qsm-native'
  if (typeof name !== 'string') throw invalid('name must be a string')
  const rts = options.rts ?? {}
  if (typeof rts !== 'object' || rts === null) throw invalid('rts must be an object')
  const background = oneOf(options.background, 'background', ['single-step', 'vsharp', 'pdf'], 'single-step')
  const inversion = oneOf(options.inversion, 'inversion', ['rts', 'tkd', 'single-step'], 'rts')
  if (inversion === 'single-step' && background !== 'single-step') throw invalid(`inversion 'single-step' needs background 'single-step', got '${background}'`)
  return {
    name,
    mask: maskOption(options.mask),
    unwrapping: oneOf(options.unwrapping, 'unwrapping', ['sin', 'wrapped'], 'wrapped'),
    phaseOffset: oneOf(options.phaseOffset, 'phaseOffset', ['fit', 'none'], 'fit'),
    background,
    singleStep: singleStepOption(options.singleStep),
    vsharpRadiiMm: radii(options.vsharpRadiiMm, 'vsharpRadiiMm', DEFAULT_VSHARP_RADII_MM),
    vsharpThreshold: number(options.vsharpThreshold, 'vsharpThreshold', 1e-4, 0.5, 0.05),
    pdfIterations: number(options.pdfIterations, 'pdfIterations', 1, 1000, 20, true),
    inversion,
    rts: {
      delta: number(rts.delta, 'rts.delta', 1e-3, 2 / 3, RTS_DEFAULTS.delta),
      mu: number(rts.mu, 'rts.mu', 1e-6, 1e12, DEFAULT_RTS_MU),
      rho: number(rts.rho, 'rts.rho', 1e-6, 1e12, RTS_DEFAULTS.rho),
      tolerance: number(rts.tolerance, 'rts.tolerance', 0, 1, RTS_DEFAULTS.tolerance),
      maxIterations: number(rts.maxIterations, 'rts.maxIterations', 0, 10_000, RTS_DEFAULTS.maxIterations, true),
      lsmrIterations: number(rts.lsmrIterations, 'rts.lsmrIterations', 1, 1000, DEFAULT_LSMR_ITERATIONS, true),
    },
    tkdThreshold: number(options.tkdThreshold, 'tkdThreshold', 1e-3, 2 / 3, 0.15),
    paddingMm: number(options.paddingMm, 'paddingMm', 0, 500, 12),
    gzip: options.gzip === undefined ? false : typeof options.gzip === 'boolean' ? options.gzip : (() => { throw invalid('gzip must be true or false') })(),
    threads: number(options.threads, 'threads', 1, 64, defaultFftThreads(), true),
  }
}
