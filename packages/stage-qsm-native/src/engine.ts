// The QSM engine on arrays: mask, Laplacian unwrapping, multi-echo fit, background removal, dipole inversion, referencing.
import { PacsflowError } from '@pacsflow/core'
import { startFftThreads, type Shape3 } from '@pacsflow/imaging'
import { fromBox, maskToBox, paddedBox, toBox } from './box.js'
import { brainMask } from './brain-mask.js'
import { fitField } from './echo-fit.js'
import { rts, tkd } from './inversion.js'
import type { Mask } from './morphology.js'
import type { ResolvedOptions } from './options.js'
import { checkpoint } from './pause.js'
import { pdf } from './pdf.js'
import { fieldWeights, singleStepQsm } from './single-step.js'
import { referenceToMean } from './reference.js'
import { laplacianUnwrap } from './unwrap.js'
import { vsharp, type BackgroundRemoval } from './vsharp.js'

/** A multi-echo GRE in memory, on one grid (x fastest). */
export interface QsmData {
  readonly shape: Shape3
  readonly voxelSizeMm: readonly [number, number, number]
  /** B0 in the grid's voxel axes (unit vector). */
  readonly b0DirectionVoxel: readonly [number, number, number]
  /** Magnitude per echo (any linear scale). */
  readonly magnitudes: readonly ArrayLike<number>[]
  /** Wrapped phase per echo, radians. */
  readonly phases: readonly ArrayLike<number>[]
  readonly echoTimesMs: readonly number[]
  /** The Larmor frequency gamma-bar * B0, MHz (a field in Hz over it is in ppm). */
  readonly larmorMHz: number
  /** A brain mask on this grid; computed from the magnitude when absent. */
  readonly mask?: Mask
}

/** What the engine gives back, on the input grid. */
export interface QsmArrays {
  /** ppm, referenced to the mean in `mask`, zero outside. */
  readonly chi: Float32Array
  /** ppm, zero outside `mask`. */
  readonly localField: Float32Array
  /** Where chi and the local field are valid (the brain mask after background removal's erosion). */
  readonly mask: Mask
  /** The brain mask before background removal. */
  readonly brainMask: Mask
  /** Milliseconds per step, in order. */
  readonly timings: Record<string, number>
  /** Threads the FFTs ran on (1 when the worker threads could not start: see `EngineHooks.warn`). */
  readonly threads: number
}

export interface EngineHooks {
  readonly signal?: AbortSignal
  /** Overall progress in [0, 1] with the step's name. */
  readonly progress?: (fraction: number, note: string) => void
  /** Told when something degrades the run without failing it (e.g. the FFT worker threads did not start). */
  readonly warn?: (message: string) => void
}

type Step = 'mask' | 'unwrap' | 'fit' | 'background' | 'inversion' | 'reference'

/** Share of the run each step takes, for progress: their measured seconds on the testkit's default exam, normalised. */
function stepWeights(options: ResolvedOptions): Record<Step, number> {
  const background = { 'single-step': 7.7, pdf: 4, vsharp: 0.8 }[options.background]
  const inversion = { rts: 2, tkd: 0.1, 'single-step': 0.01 }[options.inversion]
  const seconds: Record<Step, number> = { mask: 0.5, unwrap: 0.8, fit: 0.1, background, inversion, reference: 0.05 }
  const total = Object.values(seconds).reduce((a, b) => a + b, 0)
  for (const name of Object.keys(seconds) as Step[]) seconds[name] /= total
  return seconds
}

function checkData(data: QsmData): void {
  const size = data.shape[0] * data.shape[1] * data.shape[2]
  const echoes = data.phases.length
  if (echoes === 0) throw new PacsflowError('QSM_INPUT', 'no echoes')
  if (data.magnitudes.length !== echoes || data.echoTimesMs.length !== echoes) {
    throw new PacsflowError('QSM_INPUT', `the echoes disagree: ${data.magnitudes.length} magnitudes, ${echoes} phases, ${data.echoTimesMs.length} echo times`)
  }
  for (const [e, volume] of [...data.magnitudes, ...data.phases].entries()) {
    if (volume.length !== size) throw new PacsflowError('QSM_INPUT', `echo volume ${e} has ${volume.length} voxels, the grid ${size}`)
  }
  if (data.mask !== undefined && data.mask.length !== size) throw new PacsflowError('QSM_INPUT', `the mask has ${data.mask.length} voxels, the grid ${size}`)
  if (!(data.larmorMHz > 0)) throw new PacsflowError('QSM_INPUT', `the Larmor frequency must be positive, got ${data.larmorMHz} MHz`)
}

/** Runs every step; each step's wall time goes into `timings`. Yields to the event loop between steps and iterations. */
export async function runQsm(data: QsmData, options: ResolvedOptions, hooks: EngineHooks = {}): Promise<QsmArrays> {
  checkData(data)
  const threads = await fftThreadsFor(options.threads, hooks)
  const timings: Record<string, number> = {}
  const shares = stepWeights(options)
  let done = 0
  const step = async <T>(name: Step, work: (report: (fraction: number) => void) => T | Promise<T>): Promise<T> => {
    await checkpoint(hooks.signal)
    const started = performance.now()
    const report = (fraction: number): void => hooks.progress?.(done + shares[name] * Math.min(1, fraction), name)
    report(0)
    const result = await work(report)
    timings[name] = Math.round(performance.now() - started)
    done += shares[name]
    hooks.progress?.(done, name)
    return result
  }
  const { shape, voxelSizeMm } = data
  const brain = await step('mask', () => data.mask ?? brainMask(data.magnitudes, shape, voxelSizeMm, 'file' in options.mask ? {} : options.mask))
  const largest = options.background === 'vsharp' ? Math.max(...options.vsharpRadiiMm) : 0
  const margin = voxelSizeMm.map((h) => (options.paddingMm + largest) / h + 1)
  const box = paddedBox(brain, shape, margin)
  const grid = { shape: box.shape, voxelSizeMm, b0DirectionVoxel: data.b0DirectionVoxel }
  const boxMask = maskToBox(brain, shape, box)
  const unwrapped = await step('unwrap', async (report) => {
    const out: Float64Array[] = []
    for (const [e, phase] of data.phases.entries()) {
      await checkpoint(hooks.signal)
      out.push(laplacianUnwrap(toBox(phase, shape, box), box.shape, voxelSizeMm, { form: options.unwrapping }))
      report((e + 1) / data.phases.length)
    }
    return out
  })
  const magnitudes = data.magnitudes.map((m) => toBox(m, shape, box))
  const fieldPpm = await step('fit', () => {
    const { fieldHz } = fitField(unwrapped, magnitudes, data.echoTimesMs, options.phaseOffset)
    for (let i = 0; i < fieldHz.length; i++) fieldHz[i] = (fieldHz[i] as number) / data.larmorMHz
    return fieldHz
  })
  let fitted: Float64Array | undefined
  const removed: BackgroundRemoval = await step('background', async (report) => {
    if (options.background === 'single-step') {
      const weights = fieldWeights(magnitudes, data.echoTimesMs, options.phaseOffset)
      const result = await singleStepQsm(fieldPpm, boxMask, grid, { ...options.singleStep, weights, ...signalOf(hooks), onProgress: report })
      fitted = result.chi
      return { local: result.local, mask: result.mask }
    }
    return options.background === 'vsharp'
      ? vsharp(fieldPpm, boxMask, box.shape, voxelSizeMm, { radiiMm: options.vsharpRadiiMm, threshold: options.vsharpThreshold, ...signalOf(hooks), onProgress: report })
      : pdf(fieldPpm, boxMask, grid, { maxIterations: options.pdfIterations, ...signalOf(hooks), onProgress: report })
  })
  const chiBox = await step('inversion', (report) => {
    if (options.inversion === 'single-step') return fitted as Float64Array
    return options.inversion === 'tkd'
      ? tkd(removed.local, removed.mask, grid, options.tkdThreshold)
      : rts(removed.local, removed.mask, grid, { ...options.rts, ...signalOf(hooks), onIteration: (i, n) => report(i / n) })
  })
  return step('reference', () => {
    referenceToMean(chiBox, removed.mask)
    const mask = Uint8Array.from(fromBox(removed.mask, shape, box))
    return { chi: fromBox(chiBox, shape, box), localField: fromBox(removed.local, shape, box), mask, brainMask: brain, timings, threads }
  })
}

/** Starts (or resizes) the process's FFT worker pool; a pool that cannot start leaves the run single-threaded, with a warning. */
async function fftThreadsFor(threads: number, hooks: EngineHooks): Promise<number> {
  try {
    return await startFftThreads(threads)
  } catch (error) {
    hooks.warn?.(`${(error as Error).message}; the FFTs run on one thread`)
    return 1
  }
}

function signalOf(hooks: EngineHooks): { signal?: AbortSignal } {
  return hooks.signal === undefined ? {} : { signal: hooks.signal }
}
