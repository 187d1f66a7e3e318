// The unit dipole kernel in k-space: how a susceptibility distribution becomes a field (the QSM forward model).
import { PacsflowError } from '@pacsflow/core'
import type { Shape3 } from './fft3d.js'
import { fftFrequency } from './sizes.js'

/**
 * The dipole kernel `D(k) = 1/3 - (k.b)^2 / |k|^2`, `D(0) = 0`, sampled at the FFT frequencies of
 * `shape` (FFT order, no fftshift), so that the relative field is `delta_B / B0 = IFFT(D . FFT(chi))`
 * (Salomir et al. 2003, Concepts Magn Reson B 19:26; Marques & Bowtell 2005, Concepts Magn Reson B
 * 25:65). `k` along each voxel axis is `fftFrequency(i, n) / voxelSizeMm`, so anisotropic voxels
 * are right; `b0DirectionVoxel` is the B0 direction expressed in the grid's (orthonormal) voxel axes
 * (for an oblique slab it is not [0, 0, 1]); it is normalised here. Setting D(0) = 0 drops the
 * unknown mean (the Lorentz-sphere convention: the field of a uniform medium is zero).
 *
 * The kernel is Hermitian, `D[i] = D[mirror(i)]`, so it maps real volumes to real volumes (and works
 * on half spectra): on an even axis the Nyquist index stands for both -1/2 and +1/2, and for an
 * oblique B0 the two give different values; there D is the mean of the value at k and at k with
 * its Nyquist components negated (what taking the real part of the inverse transform would do).
 * Returns float64 values, x fastest.
 */
export function dipoleKernel(shape: Shape3, voxelSizeMm: readonly number[], b0DirectionVoxel: readonly number[]): Float64Array {
  const [nx, ny, nz] = shape
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new PacsflowError('INVALID_OPTIONS', `dipoleKernel: the shape must be three positive integers, got [${shape.join(', ')}]`)
  }
  const size = voxelSizeMm.map(Number)
  if (size.length !== 3 || !size.every((v) => Number.isFinite(v) && v > 0)) {
    throw new PacsflowError('INVALID_OPTIONS', `dipoleKernel: voxel sizes must be three positive numbers, got [${voxelSizeMm.join(', ')}]`)
  }
  const b = b0DirectionVoxel.map(Number)
  const norm = Math.hypot(b[0] ?? 0, b[1] ?? 0, b[2] ?? 0)
  if (b.length !== 3 || !(norm > 0) || !Number.isFinite(norm)) {
    throw new PacsflowError('INVALID_OPTIONS', `dipoleKernel: the B0 direction must be a non-zero 3-vector, got [${b0DirectionVoxel.join(', ')}]`)
  }
  const [bx, by, bz] = [(b[0] as number) / norm, (b[1] as number) / norm, (b[2] as number) / norm]
  const kx = axisFrequencies(nx, size[0] as number)
  const ky = axisFrequencies(ny, size[1] as number)
  const kz = axisFrequencies(nz, size[2] as number)
  // The sign each frequency takes in the mirrored point: -1 at an even axis's Nyquist index, else +1.
  const sx = nyquistSigns(nx)
  const sy = nyquistSigns(ny)
  const sz = nyquistSigns(nz)
  const out = new Float64Array(nx * ny * nz)
  for (let z = 0; z < nz; z++) {
    const fz = kz[z] as number
    for (let y = 0; y < ny; y++) {
      const fy = ky[y] as number
      const yz = fy * fy + fz * fz
      const dotYz = fy * by + fz * bz
      const flippedYz = (sy[y] as number) * fy * by + (sz[z] as number) * fz * bz
      const row = nx * (y + ny * z)
      for (let x = 0; x < nx; x++) {
        const fx = kx[x] as number
        const k2 = fx * fx + yz
        if (k2 === 0) continue
        const dot = fx * bx + dotYz
        const flipped = (sx[x] as number) * fx * bx + flippedYz
        out[row + x] = 1 / 3 - (dot * dot + flipped * flipped) / (2 * k2)
      }
    }
  }
  return out
}

function nyquistSigns(n: number): Float64Array {
  const signs = new Float64Array(n).fill(1)
  if (n % 2 === 0 && n > 1) signs[n / 2] = -1
  return signs
}

function axisFrequencies(n: number, spacing: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = fftFrequency(i, n) / spacing
  return out
}
