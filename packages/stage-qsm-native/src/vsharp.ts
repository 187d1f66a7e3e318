// Background field removal by V-SHARP: spherical mean value filtering with kernels of decreasing radius, then a truncated deconvolution.
import { PacsflowError } from '@pacsflow/core'
import { fftArray, irfft3d, rfft3d, type HalfSpectrum, type Shape3 } from '@pacsflow/imaging'
import { sphereKernelHalf } from './kernels.js'
import { squaredDistance, type Mask } from './morphology.js'
import { checkpoint } from './pause.js'

export interface VsharpOptions {
  /** Ball radii in mm, any order (used largest first). */
  readonly radiiMm: readonly number[]
  /** Deconvolution threshold on |1 - S| for the largest kernel (default 0.05). */
  readonly threshold?: number
  readonly signal?: AbortSignal
  /** Called after each radius with the fraction done. */
  readonly onProgress?: (fraction: number) => void
}

export interface BackgroundRemoval {
  /** The local (tissue) field, same units as the input, zero outside `mask`. */
  readonly local: Float64Array
  /** The mask the local field is valid in (the input mask eroded by the smallest radius). */
  readonly mask: Mask
}

/**
 * V-SHARP (Wu et al., "Whole brain susceptibility mapping using compressed sensing", MRM 67:137,
 * 2012; Li et al., "Quantitative susceptibility mapping of human brain reflects spatial variation
 * in tissue magnetic susceptibility", NeuroImage 55:1645, 2011; after SHARP, Schweser et al.,
 * NeuroImage 54:2789, 2011). A harmonic (background) field equals its mean over any ball inside
 * the region where it is harmonic, so `f - S_r * f` removes it wherever the ball of radius r lies
 * inside the mask. Each voxel takes `f - S_r * f` from the largest radius whose eroded mask holds
 * it; the result is deconvolved with `1 - S_rmax` where `|1 - S_rmax| >= threshold` (a truncated
 * inverse: the low frequencies it drops are the broad field the filter cannot tell from background).
 * The box must leave at least the largest radius between the mask and its border (no wrap-around).
 */
export async function vsharp(field: ArrayLike<number>, mask: Mask, shape: Shape3, voxelSizeMm: readonly number[], options: VsharpOptions): Promise<BackgroundRemoval> {
  const radii = [...new Set(options.radiiMm)].sort((a, b) => b - a)
  const threshold = options.threshold ?? 0.05
  if (radii.length === 0 || !radii.every((r) => Number.isFinite(r) && r > 0)) {
    throw new PacsflowError('INVALID_OPTIONS', `V-SHARP radii must be positive numbers, got [${options.radiiMm.join(', ')}]`)
  }
  const size = shape[0] * shape[1] * shape[2]
  const masked = fftArray(size)
  for (let i = 0; i < size; i++) masked[i] = mask[i] === 1 ? (field[i] as number) : 0
  const spectrum = rfft3d(masked, shape)
  const local = fftArray(size)
  const filtered = fftArray(size)
  const work: HalfSpectrum = { re: fftArray(spectrum.re.length), im: fftArray(spectrum.re.length) }
  // One distance map serves every radius: a voxel's ball of radius r lies in the mask when the
  // nearest outside voxel is farther than r.
  const outside = new Uint8Array(size)
  for (let i = 0; i < size; i++) outside[i] = mask[i] === 1 ? 0 : 1
  const distance2 = squaredDistance(outside, shape, voxelSizeMm)
  let inverse: Float64Array | undefined
  let previous: Mask | undefined
  let current: Mask = mask
  for (const [r, radius] of radii.entries()) {
    await checkpoint(options.signal)
    const kernel = sphereKernelHalf(shape, voxelSizeMm, radius)
    current = new Uint8Array(size)
    for (let i = 0; i < size; i++) current[i] = mask[i] === 1 && (distance2[i] as number) > radius * radius ? 1 : 0
    for (let k = 0; k < kernel.length; k++) {
      const highPass = 1 - (kernel[k] as number)
      work.re[k] = highPass * (spectrum.re[k] as number)
      work.im[k] = highPass * (spectrum.im[k] as number)
    }
    if (r === 0) inverse = kernel.map((s) => (Math.abs(1 - s) < threshold ? 0 : 1 / (1 - s)))
    irfft3d(work, shape, filtered)
    for (let i = 0; i < size; i++) {
      if (current[i] === 1 && (previous === undefined || previous[i] === 0)) local[i] = filtered[i] as number
    }
    previous = current
    options.onProgress?.((r + 1) / (radii.length + 1))
  }
  const deconvolved = rfft3d(local, shape)
  const inv = inverse as Float64Array
  for (let k = 0; k < inv.length; k++) {
    deconvolved.re[k]! *= inv[k] as number
    deconvolved.im[k]! *= inv[k] as number
  }
  irfft3d(deconvolved, shape, local)
  for (let i = 0; i < size; i++) if (current[i] === 0) local[i] = 0
  options.onProgress?.(1)
  return { local, mask: current }
}
