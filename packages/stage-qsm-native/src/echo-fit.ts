// Multi-echo combination: a magnitude-weighted least-squares fit of the field (Hz) through the unwrapped echo phases.
import { PacsflowError } from '@pacsflow/core'

/** How the receiver's phase offset (the phase at TE = 0) is handled. */
export type PhaseOffset = 'fit' | 'none'

export interface FieldFit {
  /** Field offset in Hz, per voxel. */
  readonly fieldHz: Float64Array
  /** Fitted phase at TE = 0 (radians) when the offset is fitted, else zeros. */
  readonly offset: Float64Array
}

/**
 * Fits `phase_n = offset + 2 pi f TE_n` per voxel by weighted least squares with weights
 * `w_n = magnitude_n^2`, the inverse of the phase noise variance (sigma_phi = sigma / magnitude;
 * Gudbjartsson & Patz, MRM 34:910, 1995), as in the linear multi-echo fit of Liu et al.
 * ("Nonlinear formulation of the magnetic field to source relationship for robust quantitative
 * susceptibility mapping", MRM 69:467, 2013, whose weighting this linearises). With `offset: 'none'`
 * the line goes through the origin: `f = sum w_n TE_n phase_n / (2 pi sum w_n TE_n^2)`, i.e. the
 * per-echo fields `phase_n / (2 pi TE_n)` weighted by `magnitude^2 TE^2`; a single echo then works.
 * The fit removes the receiver offset common to the echoes; a constant per echo (Laplacian
 * unwrapping loses each echo's mean) only shifts the field by a constant, which the background
 * removal takes away.
 */
export function fitField(phases: readonly ArrayLike<number>[], magnitudes: readonly ArrayLike<number>[], echoTimesMs: readonly number[], offset: PhaseOffset = 'fit'): FieldFit {
  const echoes = phases.length
  if (echoes === 0 || magnitudes.length !== echoes || echoTimesMs.length !== echoes) {
    throw new PacsflowError('QSM_INPUT', `fitField needs as many magnitudes and echo times as phases, got ${echoes} phases, ${magnitudes.length} magnitudes, ${echoTimesMs.length} echo times`)
  }
  if (!echoTimesMs.every((te) => Number.isFinite(te) && te > 0)) {
    throw new PacsflowError('QSM_INPUT', `echo times must be positive, got ${echoTimesMs.join(', ')} ms`)
  }
  const distinct = new Set(echoTimesMs).size
  if (offset === 'fit' && distinct < 2) {
    throw new PacsflowError('QSM_INPUT', `fitting the phase offset needs at least two distinct echo times, got ${echoTimesMs.join(', ')} ms (use offset 'none' for one echo)`)
  }
  const size = phases[0]?.length ?? 0
  const te = echoTimesMs.map((ms) => ms / 1000)
  const fieldHz = new Float64Array(size)
  const intercept = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    let sw = 0
    let st = 0
    let sp = 0
    let stt = 0
    let stp = 0
    for (let n = 0; n < echoes; n++) {
      const m = magnitudes[n]![i] as number
      const w = m * m
      const t = te[n] as number
      const p = phases[n]![i] as number
      sw += w
      st += w * t
      sp += w * p
      stt += w * t * t
      stp += w * t * p
    }
    if (offset === 'fit') {
      const det = sw * stt - st * st
      if (det > 0) {
        const slope = (sw * stp - st * sp) / det
        fieldHz[i] = slope / (2 * Math.PI)
        intercept[i] = (sp - slope * st) / sw
      }
    } else if (stt > 0) {
      fieldHz[i] = stp / stt / (2 * Math.PI)
    }
  }
  return { fieldHz, offset: intercept }
}
