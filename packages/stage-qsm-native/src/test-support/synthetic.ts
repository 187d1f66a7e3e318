// Test helpers: seeded noise, balls, forward dipole fields on a padded grid, and error measures.
import { cropVolume, dipoleKernel, fft3d, ifft3d, nextFastSize, padVolume, type Shape3 } from '@pacsflow/imaging'

export function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** Standard normal samples (Box-Muller) from a seeded uniform generator. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

/** 1 inside the ellipsoid with centre c and semi-axes s (voxels), else 0. */
export function ellipsoid(shape: Shape3, centre: readonly number[], semiAxes: readonly number[]): Uint8Array {
  const [nx, ny, nz] = shape
  const out = new Uint8Array(nx * ny * nz)
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const u = (x - centre[0]!) / semiAxes[0]!
        const v = (y - centre[1]!) / semiAxes[1]!
        const w = (z - centre[2]!) / semiAxes[2]!
        out[i] = u * u + v * v + w * w <= 1 ? 1 : 0
      }
    }
  }
  return out
}

/** The field (same units as chi) of a susceptibility distribution, on a 2x zero-padded grid (no wrap-around). */
export function forwardField(chi: ArrayLike<number>, shape: Shape3, voxelSizeMm: readonly number[], b0: readonly number[]): Float64Array {
  const padded = shape.map((n) => nextFastSize(2 * n)) as unknown as Shape3
  const re = padVolume(chi, shape, padded)
  const im = new Float64Array(re.length)
  fft3d(re, im, padded)
  const d = dipoleKernel(padded, voxelSizeMm, b0)
  for (let i = 0; i < d.length; i++) {
    re[i]! *= d[i]!
    im[i]! *= d[i]!
  }
  ifft3d(re, im, padded)
  return cropVolume(re, padded, shape)
}

/** 100 ||x - t|| / ||t|| over the mask, both demeaned in the mask (the scorer's NRMSE). */
export function nrmse(x: ArrayLike<number>, truth: ArrayLike<number>, mask: Uint8Array): number {
  let mx = 0
  let mt = 0
  let n = 0
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1) continue
    mx += x[i]!
    mt += truth[i]!
    n++
  }
  mx /= n
  mt /= n
  let e = 0
  let t = 0
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1) continue
    e += (x[i]! - mx - truth[i]! + mt) ** 2
    t += (truth[i]! - mt) ** 2
  }
  return (100 * Math.sqrt(e)) / Math.sqrt(t)
}

/** The mean of x over the voxels where mask is 1. */
export function meanIn(x: ArrayLike<number>, mask: Uint8Array): number {
  let sum = 0
  let n = 0
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) {
      sum += x[i]!
      n++
    }
  }
  return sum / n
}
