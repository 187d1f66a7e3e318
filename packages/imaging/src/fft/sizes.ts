// FFT sizes and frequencies, and zero-padding / cropping of volumes to FFT-friendly shapes.
import { PacsflowError } from '@pacsflow/core'
import { nextSmooth } from './line-plan.js'
import type { FftArray, Shape3 } from './fft3d.js'

/** The smallest 2^a 3^b 5^c >= n: the sizes the FFT transforms fastest. */
export function nextFastSize(n: number): number {
  if (!Number.isFinite(n) || n < 1) throw new PacsflowError('INVALID_OPTIONS', `nextFastSize needs a size >= 1, got ${n}`)
  return nextSmooth(Math.ceil(n))
}

/**
 * The frequency of FFT index `i` of `n`, in cycles per sample, without fftshift: `i / n` for
 * `i <= (n - 1) / 2`, else `(i - n) / n` (numpy's `fftfreq`; for even n the Nyquist index n/2 is -1/2).
 */
export function fftFrequency(i: number, n: number): number {
  return (2 * i < n ? i : i - n) / n
}

/** All FFT frequencies of an axis of `n` samples `spacing` apart (cycles per unit of `spacing`). */
export function fftFrequencies(n: number, spacing = 1): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = fftFrequency(i, n) / spacing
  return out
}

/** The FFT-friendly shape that holds `shape` plus `margin` voxels per axis (e.g. to keep a convolution from wrapping). */
export function fastShape(shape: Shape3, margin: Shape3 | number = 0): Shape3 {
  const pad = typeof margin === 'number' ? [margin, margin, margin] : margin
  return [nextFastSize(shape[0] + (pad[0] ?? 0)), nextFastSize(shape[1] + (pad[1] ?? 0)), nextFastSize(shape[2] + (pad[2] ?? 0))]
}

function checkFits(shape: Shape3, padded: Shape3, offset: Shape3, what: string): void {
  for (let axis = 0; axis < 3; axis++) {
    const inner = shape[axis] as number
    const outer = padded[axis] as number
    const at = offset[axis] as number
    if (!Number.isInteger(at) || at < 0 || at + inner > outer) {
      throw new PacsflowError('INVALID_OPTIONS', `${what}: a ${shape.join('x')} volume at offset [${offset.join(', ')}] does not fit in ${padded.join('x')}`)
    }
  }
}

/**
 * Zero-pads `data` (dims `shape`, x fastest) into a new float64 volume of `padded` dims, placing
 * voxel (0, 0, 0) at `offset` (default the origin: the padding goes after the data).
 */
export function padVolume(data: ArrayLike<number>, shape: Shape3, padded: Shape3, offset: Shape3 = [0, 0, 0]): Float64Array {
  const [nx, ny, nz] = shape
  if (data.length !== nx * ny * nz) throw new PacsflowError('INVALID_OPTIONS', `padVolume: ${data.length} values for shape ${shape.join('x')}`)
  checkFits(shape, padded, offset, 'padVolume')
  const [px, py] = padded
  const out = new Float64Array(padded[0] * padded[1] * padded[2])
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const from = nx * (y + ny * z)
      const to = offset[0] + px * (y + offset[1] + py * (z + offset[2]))
      for (let x = 0; x < nx; x++) out[to + x] = data[from + x] as number
    }
  }
  return out
}

/** The inverse of {@link padVolume}: the `shape` block at `offset` of a `padded` volume, into `out` (new float64 by default). */
export function cropVolume<T extends FftArray = Float64Array>(data: ArrayLike<number>, padded: Shape3, shape: Shape3, offset: Shape3 = [0, 0, 0], out?: T): T {
  if (data.length !== padded[0] * padded[1] * padded[2]) throw new PacsflowError('INVALID_OPTIONS', `cropVolume: ${data.length} values for shape ${padded.join('x')}`)
  checkFits(shape, padded, offset, 'cropVolume')
  const [nx, ny, nz] = shape
  const [px, py] = padded
  const target = out ?? (new Float64Array(nx * ny * nz) as T)
  if (target.length !== nx * ny * nz) throw new PacsflowError('INVALID_OPTIONS', `cropVolume: the output holds ${target.length} values, not ${nx * ny * nz}`)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const to = nx * (y + ny * z)
      const from = offset[0] + px * (y + offset[1] + py * (z + offset[2]))
      for (let x = 0; x < nx; x++) target[to + x] = data[from + x] as number
    }
  }
  return target
}
