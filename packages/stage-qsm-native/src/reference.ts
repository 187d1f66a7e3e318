// Referencing: susceptibility is only known up to a constant, so it is reported relative to the mean in the mask.
import type { Mask } from './morphology.js'

/** Subtracts the mean over the mask from every voxel in it and zeroes the rest, in place; returns the mean removed. */
export function referenceToMean(chi: Float64Array | Float32Array, mask: Mask): number {
  let sum = 0
  let count = 0
  for (let i = 0; i < chi.length; i++) {
    if (mask[i] !== 1) continue
    sum += chi[i] as number
    count++
  }
  const mean = count === 0 ? 0 : sum / count
  for (let i = 0; i < chi.length; i++) chi[i] = mask[i] === 1 ? (chi[i] as number) - mean : 0
  return mean
}
