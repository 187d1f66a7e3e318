// FFTs of real volumes: only the non-redundant half of the spectrum (kx = 0..nx/2), about half the work of a complex FFT.
//
// Along x, a real line of even length N is transformed as a complex line of length M = N/2,
// z_j = x_2j + i x_2j+1; with E, O the DFTs of the even and odd samples,
//   E_k = (Z_k + conj Z_(M-k)) / 2,  O_k = (Z_k - conj Z_(M-k)) / 2i,  X_k = E_k + W^k O_k,  W = exp(-2 pi i / N)
// for k = 0..M (Cooley, Lewis & Welch 1970, "The fast Fourier transform algorithm: programming
// considerations in the calculation of sine, cosine and Laplace transforms", J Sound Vib 12:315;
// Press et al., Numerical Recipes, 12.3). The inverse runs the same relations backwards. The y and z
// axes are then complex transforms of the half spectrum. An odd nx takes the complex path.
import { PacsflowError } from '@pacsflow/core'
import { axisLayout, checkVolume, fft3d, planAndScratch, planeScratch, runAxis, transformAxis, wasmRealRows, type FftArray, type Shape3 } from './fft3d.js'
import { realTwiddles } from './line-plan.js'
import { fftArray, sharePass } from './threads.js'

const BATCH = 16

/** The dims of the half spectrum of a real volume: `[floor(nx / 2) + 1, ny, nz]`. */
export function halfShape(shape: Shape3): Shape3 {
  return [Math.floor(shape[0] / 2) + 1, shape[1], shape[2]]
}

/** A half spectrum: `re`/`im` of dims {@link halfShape}, x fastest. */
export interface HalfSpectrum {
  readonly re: Float64Array
  readonly im: Float64Array
}

/**
 * The forward FFT of a real volume, as its half spectrum (`X(-k) = conj X(k)` gives the rest),
 * written into `out` (new float64 arrays by default). Same convention as {@link fft3d}.
 */
export function rfft3d(input: FftArray, shape: Shape3, out?: HalfSpectrum): HalfSpectrum {
  checkVolume(input, input, shape)
  const half = halfShape(shape)
  const size = half[0] * half[1] * half[2]
  const spectrum = out ?? { re: fftArray(size), im: fftArray(size) }
  if (spectrum.re.length !== size || spectrum.im.length !== size) {
    throw new PacsflowError('INVALID_OPTIONS', `rfft3d: the half spectrum of ${shape.join('x')} holds ${size} values per part, got ${spectrum.re.length}`)
  }
  if (shape[0] % 2 === 1) {
    complexPath(input, shape, spectrum)
  } else {
    realPlanes(input, shape, spectrum)
    zColumns(spectrum, half, false)
  }
  return spectrum
}

/**
 * The inverse of {@link rfft3d}: the real volume of dims `shape` whose half spectrum is given
 * (normalised by 1/N). The spectrum is overwritten (its y/z transforms run in place).
 */
export function irfft3d(spectrum: HalfSpectrum, shape: Shape3, out?: FftArray): FftArray {
  const half = halfShape(shape)
  checkVolume(spectrum.re, spectrum.im, half)
  const size = shape[0] * shape[1] * shape[2]
  const target = out ?? fftArray(size)
  if (target.length !== size) throw new PacsflowError('INVALID_OPTIONS', `irfft3d: the output holds ${target.length} values, not ${size}`)
  if (shape[0] % 2 === 1) {
    runAxis(spectrum.re, spectrum.im, half, 2, true)
    runAxis(spectrum.re, spectrum.im, half, 1, true)
    inverseComplexRows(spectrum, shape, target)
  } else {
    // Unnormalised along z; the 1/(ny nz) of both inverses is applied as the plane pass reads.
    zColumns(spectrum, half, true)
    inverseRealPlanes(spectrum, shape, target)
  }
  return target
}

/** Values per part of the scratch a chunk of z columns is copied into: 256 KiB, four parts in a core's L2. */
const COLUMN_CHUNK_VALUES = 32768

/** Columns (lines along z) per chunk of {@link zColumns} for a half spectrum of `columns` columns of length nz. */
function columnsPerChunk(nz: number, columns: number): number {
  return Math.min(columns, Math.max(BATCH, Math.floor(COLUMN_CHUNK_VALUES / nz)))
}

/**
 * The z transforms of a half spectrum in place, in chunks of neighbouring columns (split across the
 * FFT threads by chunks). A chunk's values at each z are contiguous in the volume, so it is copied
 * into the plan's scratch with one block copy per z and part, and lies there in the batched layout
 * the plan transforms. The inverse is unnormalised: the real and imaginary parts are swapped on the
 * way in and out (swap(z) = i conj(z), so swap(F swap(x)) = n F^-1 x), and the caller scales.
 */
function zColumns(spectrum: HalfSpectrum, half: Shape3, inverse: boolean): void {
  const [hx, ny, nz] = half
  if (nz === 1) return
  const { re, im } = spectrum
  const chunks = Math.ceil((hx * ny) / columnsPerChunk(nz, hx * ny))
  const split = sharePass(chunks, re.length, [re, im], { op: 'z-columns', re, im, shape: half, inverse }, (first, last) => zColumnRange(spectrum, half, inverse, first, last))
  if (!split) zColumnRange(spectrum, half, inverse, 0, chunks)
}

/** {@link zColumns} on chunks `[firstChunk, lastChunk)` (the unit an FFT worker thread takes). */
export function zColumnRange(spectrum: HalfSpectrum, half: Shape3, inverse: boolean, firstChunk: number, lastChunk: number): void {
  const [hx, ny, nz] = half
  const columns = hx * ny
  const width = columnsPerChunk(nz, columns)
  const { plan, scratch } = planeScratch(nz, width)
  const { xr, xi, yr, yi } = scratch
  const [partA, partB] = inverse ? [spectrum.im, spectrum.re] : [spectrum.re, spectrum.im]
  for (let chunk = firstChunk; chunk < lastChunk; chunk++) {
    const first = chunk * width
    const count = Math.min(width, columns - first)
    for (let z = 0, from = first, to = 0; z < nz; z++, from += columns, to += count) {
      xr.set(partA.subarray(from, from + count), to)
      xi.set(partB.subarray(from, from + count), to)
    }
    const inY = plan.transform(xr, xi, yr, yi, count) === 1
    const resultA = inY ? yr : xr
    const resultB = inY ? yi : xi
    for (let z = 0, from = 0, to = first; z < nz; z++, from += count, to += columns) {
      partA.set(resultA.subarray(from, from + count), to)
      partB.set(resultB.subarray(from, from + count), to)
    }
  }
}

/**
 * The x and y transforms of a real volume of even nx, plane by plane (split across the FFT threads
 * by planes): each plane's rows go through the real-row transform into a plane scratch laid out
 * `[ny][nx/2 + 1]`, which is already the batched layout of the y transform (the lines along y of a
 * plane, interleaved), so the y transform runs on it in place and the plane is copied out whole.
 */
function realPlanes(input: FftArray, shape: Shape3, out: HalfSpectrum): void {
  const split = sharePass(shape[2], input.length, [input, out.re, out.im], { op: 'real-planes', input, shape, re: out.re, im: out.im }, (first, last) => realPlaneRange(input, shape, out, first, last))
  if (!split) realPlaneRange(input, shape, out, 0, shape[2])
}

/** {@link realPlanes} on planes `[firstPlane, lastPlane)` (the unit an FFT worker thread takes). */
export function realPlaneRange(input: FftArray, shape: Shape3, out: HalfSpectrum, firstPlane: number, lastPlane: number): void {
  const [nx, ny] = shape
  const hx = nx / 2 + 1
  const count = ny * hx
  const { plan, scratch } = planeScratch(ny, hx)
  const rows = wasmRealRows(nx)
  for (let z = firstPlane; z < lastPlane; z++) {
    if (rows === undefined) realRowsInto(input, nx, z * ny, (z + 1) * ny, scratch.xr, scratch.xi)
    else rows.forward(input, z * ny, (z + 1) * ny, scratch.xr, scratch.xi)
    const inY = ny > 1 && plan.transform(scratch.xr, scratch.xi, scratch.yr, scratch.yi, hx) === 1
    out.re.set((inY ? scratch.yr : scratch.xr).subarray(0, count), z * count)
    out.im.set((inY ? scratch.yi : scratch.xi).subarray(0, count), z * count)
  }
}

/** Forward real transform of rows `[firstRow, lastRow)` of even length n into half-spectrum rows of n/2 + 1 at the start of `outRe`/`outIm`. */
export function realRowsInto(input: FftArray, n: number, firstRow: number, lastRow: number, outRe: Float64Array, outIm: Float64Array): void {
  const m = n / 2
  const { plan, scratch } = planAndScratch(m)
  const { twiddleRe, twiddleIm } = realTwiddles(n)
  const { xr, xi, yr, yi } = scratch
  for (let first = firstRow; first < lastRow; first += BATCH) {
    const batch = Math.min(BATCH, lastRow - first)
    for (let b = 0; b < batch; b++) {
      const from = (first + b) * n
      for (let j = 0; j < m; j++) {
        xr[j * batch + b] = input[from + 2 * j] as number
        xi[j * batch + b] = input[from + 2 * j + 1] as number
      }
    }
    const inY = plan.transform(xr, xi, yr, yi, batch) === 1
    const zr = inY ? yr : xr
    const zi = inY ? yi : xi
    for (let b = 0; b < batch; b++) {
      const to = (first - firstRow + b) * (m + 1)
      for (let k = 0; k <= m; k++) {
        // Z_(k mod M) and Z_((M - k) mod M), without an integer division per value.
        const a = (k === m ? 0 : k) * batch + b
        const c = (k === 0 ? 0 : m - k) * batch + b
        const ar = zr[a] as number
        const ai = zi[a] as number
        const cr = zr[c] as number
        const ci = -(zi[c] as number)
        const er = 0.5 * (ar + cr)
        const ei = 0.5 * (ai + ci)
        // O = (Z_k - conj Z_(M-k)) / 2i
        const or = 0.5 * (ai - ci)
        const oi = -0.5 * (ar - cr)
        const wr = twiddleRe[k] as number
        const wi = twiddleIm[k] as number
        outRe[to + k] = er + or * wr - oi * wi
        outIm[to + k] = ei + or * wi + oi * wr
      }
    }
  }
}

/**
 * The inverse of {@link realPlanes}, on a half spectrum already inverse-transformed along z (not
 * normalised), plane by plane: the plane is copied into the plane scratch with its real and
 * imaginary parts swapped, the forward y transform run on it, and the swap undone with the scale
 * 1/(ny nz) as the rows are read (swap(z) = i conj(z), so swap(F swap(x)) = conj(F conj(x)) = ny F^-1 x),
 * then the inverse real rows.
 */
function inverseRealPlanes(spectrum: HalfSpectrum, shape: Shape3, out: FftArray): void {
  const { re, im } = spectrum
  const split = sharePass(shape[2], out.length, [re, im, out], { op: 'inverse-real-planes', re, im, shape, out }, (first, last) => inverseRealPlaneRange(spectrum, shape, out, first, last))
  if (!split) inverseRealPlaneRange(spectrum, shape, out, 0, shape[2])
}

/** {@link inverseRealPlanes} on planes `[firstPlane, lastPlane)` (the unit an FFT worker thread takes). */
export function inverseRealPlaneRange(spectrum: HalfSpectrum, shape: Shape3, out: FftArray, firstPlane: number, lastPlane: number): void {
  const [nx, ny, nz] = shape
  const hx = nx / 2 + 1
  const count = ny * hx
  // The normalisation of the y and z inverses (zColumns leaves z unnormalised), once per value.
  const scale = 1 / (ny * nz)
  const { plan, scratch } = planeScratch(ny, hx)
  const rows = wasmRealRows(nx)
  const inverseRows = (re: Float64Array, im: Float64Array, from: number, first: number, last: number): void => {
    if (rows === undefined) inverseRealRowsFrom(re, im, from, scale, nx, out, first, last)
    else rows.inverse(re, im, from, scale, out, first, last)
  }
  for (let z = firstPlane; z < lastPlane; z++) {
    const at = z * count
    if (ny === 1) {
      inverseRows(spectrum.re, spectrum.im, at, z, z + 1)
      continue
    }
    scratch.xr.set(spectrum.im.subarray(at, at + count))
    scratch.xi.set(spectrum.re.subarray(at, at + count))
    const inY = plan.transform(scratch.xr, scratch.xi, scratch.yr, scratch.yi, hx) === 1
    // Swapped back: the real part is the imaginary result.
    inverseRows(inY ? scratch.yi : scratch.xi, inY ? scratch.yr : scratch.xr, 0, z * ny, (z + 1) * ny)
  }
}

/**
 * Half-spectrum rows (already inverse-transformed along y and z) to real rows `[firstRow, lastRow)`
 * of even length n: row `firstRow` is read at `from` in `re`/`im`, each value times `scale`.
 */
export function inverseRealRowsFrom(re: Float64Array, im: Float64Array, from: number, scale: number, n: number, out: FftArray, firstRow: number, lastRow: number): void {
  const m = n / 2
  const { plan, scratch } = planAndScratch(m)
  const { twiddleRe, twiddleIm } = realTwiddles(n)
  const { xr, xi, yr, yi } = scratch
  const outScale = 1 / m
  for (let first = firstRow; first < lastRow; first += BATCH) {
    const batch = Math.min(BATCH, lastRow - first)
    for (let b = 0; b < batch; b++) {
      const row = from + (first - firstRow + b) * (m + 1)
      for (let k = 0; k < m; k++) {
        const ar = scale * (re[row + k] as number)
        const ai = scale * (im[row + k] as number)
        const cr = scale * (re[row + m - k] as number)
        const ci = -(scale * (im[row + m - k] as number))
        const er = 0.5 * (ar + cr)
        const ei = 0.5 * (ai + ci)
        // O = (X_k - conj X_(M-k)) W^-k / 2
        const dr = 0.5 * (ar - cr)
        const di = 0.5 * (ai - ci)
        const wr = twiddleRe[k] as number
        const wi = -(twiddleIm[k] as number)
        const or = dr * wr - di * wi
        const oi = dr * wi + di * wr
        // Z = E + i O, conjugated so that the forward plan computes the inverse
        xr[k * batch + b] = er - oi
        xi[k * batch + b] = -(ei + or)
      }
    }
    const inY = plan.transform(xr, xi, yr, yi, batch) === 1
    const zr = inY ? yr : xr
    const zi = inY ? yi : xi
    for (let b = 0; b < batch; b++) {
      const to = (first + b) * n
      for (let j = 0; j < m; j++) {
        out[to + 2 * j] = outScale * (zr[j * batch + b] as number)
        out[to + 2 * j + 1] = -outScale * (zi[j * batch + b] as number)
      }
    }
  }
}

function complexPath(input: FftArray, shape: Shape3, out: HalfSpectrum): void {
  const re = Float64Array.from(input)
  const im = new Float64Array(re.length)
  fft3d(re, im, shape)
  const [nx] = shape
  const hx = Math.floor(nx / 2) + 1
  const rows = shape[1] * shape[2]
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < hx; k++) {
      out.re[row * hx + k] = re[row * nx + k] as number
      out.im[row * hx + k] = im[row * nx + k] as number
    }
  }
}

/** Odd nx: rebuild each full row from Hermitian symmetry and inverse-transform it as complex. */
function inverseComplexRows(spectrum: HalfSpectrum, shape: Shape3, out: FftArray): void {
  const [nx, ny, nz] = shape
  const hx = Math.floor(nx / 2) + 1
  const rows = ny * nz
  const re = new Float64Array(nx * rows)
  const im = new Float64Array(nx * rows)
  // After the y/z inverses each row is the x-spectrum of a real row, so X(nx - k) = conj X(k) within it.
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < nx; k++) {
      const mirrored = k >= hx
      const at = row * hx + (mirrored ? nx - k : k)
      re[row * nx + k] = spectrum.re[at] as number
      im[row * nx + k] = mirrored ? -(spectrum.im[at] as number) : (spectrum.im[at] as number)
    }
  }
  const layout = axisLayout(shape, 0)
  transformAxis(re, im, shape, 0, true, 0, layout.blocks)
  for (let i = 0; i < out.length; i++) out[i] = re[i] as number
}
