// Volume filters the scorer needs: the 3D Laplacian of Gaussian (separably) and an anisotropic Euclidean distance transform.

export type Dims = readonly [number, number, number]

/** The LoG kernel's half-width: 15 taps per axis, as the QSM challenge's HFEN used. */
const HALF_WIDTH = 7

/**
 * Convolves along one axis with a (2h+1)-tap kernel centred on the voxel, zero outside the volume
 * (MATLAB `imfilter`'s default), into `out`.
 */
export function convolveAxis(input: Float64Array, out: Float64Array, dims: Dims, axis: 0 | 1 | 2, kernel: Float64Array): void {
  const [nx, ny, nz] = dims
  const h = (kernel.length - 1) / 2
  out.fill(0)
  if (axis === 0) {
    for (let line = 0; line < ny * nz; line++) {
      const base = line * nx
      for (let x = 0; x < nx; x++) {
        let sum = 0
        const from = Math.max(0, x - h)
        const to = Math.min(nx - 1, x + h)
        for (let s = from; s <= to; s++) sum += kernel[s - x + h]! * input[base + s]!
        out[base + x] = sum
      }
    }
    return
  }
  // Along y or z whole x-rows are added at once, which keeps the inner loop contiguous.
  const stride = axis === 1 ? nx : nx * ny
  const n = axis === 1 ? ny : nz
  const outer = axis === 1 ? nz : 1
  const inner = axis === 1 ? nx : nx * ny
  for (let o = 0; o < outer; o++) {
    const block = o * nx * ny
    for (let p = 0; p < n; p++) {
      const target = block + p * stride
      const from = Math.max(0, p - h)
      const to = Math.min(n - 1, p + h)
      for (let s = from; s <= to; s++) {
        const weight = kernel[s - p + h]!
        const source = block + s * stride
        for (let i = 0; i < inner; i++) out[target + i]! += weight * input[source + i]!
      }
    }
  }
}

/**
 * The Laplacian of Gaussian of a volume, 15x15x15 taps, sigma in voxels, built as MATLAB's
 * `fspecial3('log')` builds it and as the QSM challenge's HFEN used it (Langkammer et al., MRM
 * 2018, 79:1661, after Ravishankar & Bresler, IEEE TMI 2011, 30:1028):
 * h = G / sum(G), G = exp(-r^2 / 2 sigma^2); LoG = h (r^2 - 3 sigma^2) / sigma^4 minus its mean.
 * h is a product of normalised 1D Gaussians g, so LoG = sum over axes of q_a (x) g (x) g - c,
 * q(x) = g(x)(x^2 - sigma^2)/sigma^4, c = 3 sum(q) / 15^3: 11 one-dimensional passes.
 */
export function laplacianOfGaussian(input: Float64Array, dims: Dims, sigma = 1.5): Float64Array {
  const taps = 2 * HALF_WIDTH + 1
  const g = new Float64Array(taps)
  const q = new Float64Array(taps)
  const box = new Float64Array(taps).fill(1)
  let total = 0
  for (let t = 0; t < taps; t++) total += g[t] = Math.exp(-((t - HALF_WIDTH) ** 2) / (2 * sigma * sigma))
  let qSum = 0
  for (let t = 0; t < taps; t++) {
    g[t]! /= total
    const x2 = (t - HALF_WIDTH) ** 2
    qSum += q[t] = (g[t]! * (x2 - sigma * sigma)) / sigma ** 4
  }
  const c = (3 * qSum) / taps ** 3
  const size = input.length
  const pass = (source: Float64Array, axis: 0 | 1 | 2, kernel: Float64Array): Float64Array => {
    const out = new Float64Array(size)
    convolveAxis(source, out, dims, axis, kernel)
    return out
  }
  const gz = pass(input, 2, g)
  const qz = pass(input, 2, q)
  const gygz = pass(gz, 1, g)
  const qygz = pass(gz, 1, q)
  const gyqz = pass(qz, 1, g)
  const result = pass(gygz, 0, q)
  const a = pass(qygz, 0, g)
  const b = pass(gyqz, 0, g)
  const boxed = pass(pass(pass(input, 2, box), 1, box), 0, box)
  for (let i = 0; i < size; i++) result[i] = result[i]! + a[i]! + b[i]! - c * boxed[i]!
  return result
}

/**
 * Squared Euclidean distance (mm^2) from every voxel to the nearest voxel outside `mask` (0 outside
 * the mask; the world beyond the volume counts as outside), with voxel spacing `spacing`: the
 * separable lower-envelope-of-parabolas transform of Felzenszwalb & Huttenlocher (Theory of
 * Computing 2012, 8:415), one pass per axis.
 */
export function squaredDistanceToOutside(mask: Uint8Array, dims: Dims, spacing: readonly [number, number, number]): Float64Array {
  const [nx, ny, nz] = dims
  const far = 1e30
  const d = new Float64Array(mask.length)
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] === 0 ? 0 : far
  const strides = [1, nx, nx * ny] as const
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis]!
    const stride = strides[axis]!
    const f = new Float64Array(n + 2)
    const out = new Float64Array(n + 2)
    const lines: number[] = []
    for (let z = 0; z < (axis === 2 ? 1 : nz); z++) for (let y = 0; y < (axis === 1 ? 1 : ny); y++) for (let x = 0; x < (axis === 0 ? 1 : nx); x++) lines.push(x + nx * (y + ny * z))
    for (const start of lines) {
      // One outside sample beyond each end of the line: the mask ends at the volume's edge.
      f[0] = 0
      f[n + 1] = 0
      for (let i = 0; i < n; i++) f[i + 1] = d[start + i * stride]!
      envelope(f, out, spacing[axis]!)
      for (let i = 0; i < n; i++) d[start + i * stride] = out[i + 1]!
    }
  }
  return d
}

/** The 1D squared-distance transform of the sampled function f with sample spacing s (Felzenszwalb & Huttenlocher, algorithm DT). */
function envelope(f: Float64Array, out: Float64Array, s: number): void {
  const n = f.length
  const v = new Int32Array(n)
  const z = new Float64Array(n + 1)
  const s2 = s * s
  const cross = (q: number, p: number): number => (f[q]! + s2 * q * q - (f[p]! + s2 * p * p)) / (2 * s2 * (q - p))
  let k = 0
  z[0] = -Infinity
  z[1] = Infinity
  for (let q = 1; q < n; q++) {
    // z[0] is -Infinity, so k never drops below 0.
    let at = cross(q, v[k]!)
    while (at <= z[k]!) at = cross(q, v[--k]!)
    v[++k] = q
    z[k] = at
    z[k + 1] = Infinity
  }
  k = 0
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++
    const p = v[k]!
    out[q] = s2 * (q - p) * (q - p) + f[p]!
  }
}
