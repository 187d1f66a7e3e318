// Resampling a voxel grid onto another one (trilinear, or nearest for label maps) through their world affines.
import { PacsflowError } from '@pacsflow/core'
import { invertAffine, multiply, type Mat4 } from '../geometry/matrix.js'

export type Interpolation = 'trilinear' | 'nearest'

export interface ResampleOptions {
  /** `'trilinear'` (default) for continuous quantities; `'nearest'` keeps label values exact. */
  readonly interpolation?: Interpolation
  /** Value of target voxels whose centre falls outside the source grid (default 0). */
  readonly fill?: number
  /** Checked between target slices: a long resample stops when it aborts. */
  readonly signal?: AbortSignal
}

/** A voxel grid: dims (x fastest) and its voxel-to-world affine (both grids in the same world, e.g. RAS mm). */
export interface Grid {
  readonly dims: readonly [number, number, number]
  readonly affine: Mat4
}

// Mapping entries this close to a whole number (in voxels) are that number: identity, flip and
// whole-voxel shift mappings then copy values exactly (a NaN beside a zero weight cannot leak in)
// despite rounding in the affines' product.
const SNAP = 1e-6

/**
 * Resamples `data` (dims `[x, y, z]` or `[x, y, z, t]`, x fastest) from its grid onto the target
 * grid: target voxel `v` takes the source value at `inverse(affine) * targetAffine * v`.
 *
 * A target voxel is inside the source when its continuous source index lies in
 * `[-0.5, n - 0.5]` along every axis (the source voxels' full extent, as ITK's interpolators
 * decide it); trilinear neighbours beyond the edge are clamped to it. Voxels outside get `fill`.
 * Each of the `t` volumes is resampled alike; the result is float32, `t` target volumes long.
 */
export function resampleToGrid(
  data: ArrayLike<number>,
  dims: readonly number[],
  affine: Mat4,
  targetDims: readonly [number, number, number],
  targetAffine: Mat4,
  options: ResampleOptions = {},
): Float32Array {
  const source = checkedDims(dims, data.length)
  for (const n of targetDims) {
    if (!Number.isInteger(n) || n < 1) throw new PacsflowError('INVALID_OPTIONS', `target dims must be positive integers, got ${targetDims.join('x')}`)
  }
  const map = snapped(multiply(sourceInverse(affine), targetAffine))
  const [tx, ty, tz] = targetDims
  const targetSize = tx * ty * tz
  const out = new Float32Array(targetSize * source.volumes)
  const fill = options.fill ?? 0
  if (isIdentity(map) && targetDims.every((n, axis) => n === source.dims[axis])) {
    options.signal?.throwIfAborted()
    out.set(data)
    return out
  }
  const axes = permutation(map)
  for (let v = 0; v < source.volumes; v++) {
    const volume = { data, offset: v * source.size, dims: source.dims }
    // Grids that share voxel centres (axes swapped or reversed, whole-voxel shifts: e.g. a NIfTI
    // and the DICOM slices it came from) need no interpolation: a strided copy, exact and fast.
    const sample = axes === undefined ? rowSampler(options.interpolation ?? 'trilinear', volume) : copyRow
    for (let z = 0; z < tz; z++) {
      options.signal?.throwIfAborted()
      for (let y = 0; y < ty; y++) {
        const start = [0, 1, 2].map((r) => map[r]![1]! * y + map[r]![2]! * z + map[r]![3]!) as [number, number, number]
        const step = [map[0][0], map[1][0], map[2][0]] as const
        sample(volume, start, step, out, v * targetSize + (z * ty + y) * tx, tx, fill)
      }
    }
  }
  return out
}

/** Convenience form taking two {@link Grid}s. */
export function resampleGrid(data: ArrayLike<number>, from: Grid, to: Grid, options: ResampleOptions = {}): Float32Array {
  return resampleToGrid(data, from.dims, from.affine, to.dims, to.affine, options)
}

function sourceInverse(affine: Mat4): Mat4 {
  try {
    return invertAffine(affine)
  } catch (error) {
    throw new PacsflowError('INVALID_OPTIONS', 'the source affine is singular: its grid has no extent along some axis', { cause: error })
  }
}

interface SourceVolume {
  readonly data: ArrayLike<number>
  readonly offset: number
  readonly dims: readonly [number, number, number]
}

function checkedDims(dims: readonly number[], length: number): { dims: [number, number, number]; size: number; volumes: number } {
  if (dims.length < 3 || dims.length > 4 || dims.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new PacsflowError('INVALID_OPTIONS', `source dims must be 3 or 4 positive integers, got ${dims.join('x')}`)
  }
  const [x, y, z, t = 1] = dims as [number, number, number, number?]
  const size = x * y * z
  if (size * t !== length) throw new PacsflowError('INVALID_OPTIONS', `source dims ${dims.join('x')} need ${size * t} values, the data has ${length}`)
  return { dims: [x, y, z], size, volumes: t }
}

/**
 * The row function for a volume. Data with NaN (masks written as NaN) takes the careful path
 * for every voxel, so that a NaN neighbour whose weight is 0 (a sample on a voxel centre) does
 * not turn the sample into NaN; the interior fast path does not look.
 */
function rowSampler(interpolation: Interpolation, volume: SourceVolume): typeof trilinearRow {
  if (interpolation === 'nearest') return nearestRow
  const { data, offset, dims } = volume
  const end = offset + dims[0] * dims[1] * dims[2]
  for (let i = offset; i < end; i++) {
    if (data[i] !== data[i]) return carefulRow
  }
  return trilinearRow
}

function carefulRow(
  volume: SourceVolume,
  start: readonly [number, number, number],
  step: readonly [number, number, number],
  out: Float32Array,
  at: number,
  count: number,
  fill: number,
): void {
  for (let i = 0; i < count; i++) out[at + i] = edgeSample(volume, start[0] + step[0] * i, start[1] + step[1] * i, start[2] + step[2] * i, fill)
}

/** For a mapping that only permutes, flips and shifts by whole voxels: which source axis each target axis walks. */
function permutation(map: Mat4): readonly number[] | undefined {
  const axes: number[] = []
  for (let c = 0; c < 3; c++) {
    const along = [0, 1, 2].filter((r) => map[r]![c] !== 0)
    if (along.length !== 1 || Math.abs(map[along[0]!]![c]!) !== 1 || axes.includes(along[0]!)) return undefined
    axes.push(along[0]!)
  }
  return [0, 1, 2].every((r) => Number.isInteger(map[r]![3])) ? axes : undefined
}

/** A row of a whole-voxel mapping: each target voxel is one source voxel, or the fill outside. */
function copyRow(
  volume: SourceVolume,
  start: readonly [number, number, number],
  step: readonly [number, number, number],
  out: Float32Array,
  at: number,
  count: number,
  fill: number,
): void {
  const { data, offset, dims } = volume
  // The run of i for which the source index is inside along every axis.
  let [first, last] = [0, count - 1]
  for (let axis = 0; axis < 3; axis++) {
    const [s, d, n] = [start[axis]!, step[axis]!, dims[axis]!]
    if (d === 0) {
      if (s < 0 || s >= n) [first, last] = [count, -1]
    } else {
      const [a, b] = d > 0 ? [-s, n - 1 - s] : [s - (n - 1), s]
      first = Math.max(first, Math.ceil(a))
      last = Math.min(last, Math.floor(b))
    }
  }
  for (let i = 0; i < count && i < first; i++) out[at + i] = fill
  for (let i = Math.max(first, last + 1); i < count; i++) out[at + i] = fill
  const [nx, ny] = dims
  const stride = step[0] + nx * step[1] + nx * ny * step[2]
  let source = offset + start[0] + nx * (start[1] + ny * start[2]) + stride * first
  // A plain loop: per-row subarray/set calls cost more than copying a few hundred values.
  for (let i = first; i <= last; i++, source += stride) out[at + i] = data[source]!
}

function snapped(map: Mat4): Mat4 {
  return map.map((row) => row.map((value) => (Math.abs(value - Math.round(value)) < SNAP ? Math.round(value) : value))) as unknown as Mat4
}

function isIdentity(map: Mat4): boolean {
  return map.every((row, r) => row.every((value, c) => value === (r === c ? 1 : 0)))
}

function nearestRow(
  volume: SourceVolume,
  start: readonly [number, number, number],
  step: readonly [number, number, number],
  out: Float32Array,
  at: number,
  count: number,
  fill: number,
): void {
  const [nx, ny, nz] = volume.dims
  const { data, offset } = volume
  for (let i = 0; i < count; i++) {
    const x = start[0] + step[0] * i
    const y = start[1] + step[1] * i
    const z = start[2] + step[2] * i
    if (!(x >= -0.5 && x <= nx - 0.5 && y >= -0.5 && y <= ny - 0.5 && z >= -0.5 && z <= nz - 0.5)) {
      out[at + i] = fill
      continue
    }
    // Clamped: a centre exactly half a voxel beyond the edge rounds outward.
    const ix = Math.min(nx - 1, Math.max(0, Math.round(x)))
    const iy = Math.min(ny - 1, Math.max(0, Math.round(y)))
    const iz = Math.min(nz - 1, Math.max(0, Math.round(z)))
    out[at + i] = data[offset + ix + nx * (iy + ny * iz)]!
  }
}

function trilinearRow(
  volume: SourceVolume,
  start: readonly [number, number, number],
  step: readonly [number, number, number],
  out: Float32Array,
  at: number,
  count: number,
  fill: number,
): void {
  const [nx, ny, nz] = volume.dims
  const { data, offset } = volume
  const plane = nx * ny
  const [sx, sy, sz] = start
  const [ix, iy, iz] = step
  for (let i = 0; i < count; i++) {
    const x = sx + ix * i
    const y = sy + iy * i
    const z = sz + iz * i
    // The interior, where all eight neighbours exist: the hot path, branch-free (x >= 0, so
    // truncation is floor).
    if (x >= 0 && x < nx - 1 && y >= 0 && y < ny - 1 && z >= 0 && z < nz - 1) {
      const x0 = x | 0
      const y0 = y | 0
      const z0 = z | 0
      const fx = x - x0
      const fy = y - y0
      const fz = z - z0
      const p = offset + x0 + nx * y0 + plane * z0
      const a = data[p]!
      const c00 = a + (data[p + 1]! - a) * fx
      const b = data[p + nx]!
      const c10 = b + (data[p + nx + 1]! - b) * fx
      const c = data[p + plane]!
      const c01 = c + (data[p + plane + 1]! - c) * fx
      const d = data[p + plane + nx]!
      const c11 = d + (data[p + plane + nx + 1]! - d) * fx
      const c0 = c00 + (c10 - c00) * fy
      const value = c0 + (c01 + (c11 - c01) * fy - c0) * fz
      out[at + i] = value
    } else {
      out[at + i] = edgeSample(volume, x, y, z, fill)
    }
  }
}

/**
 * One trilinear sample anywhere: `fill` outside `[-0.5, n - 0.5]`, neighbours clamped to the
 * grid within the outer half voxel, and neighbours with weight 0 never read.
 */
function edgeSample(volume: SourceVolume, x: number, y: number, z: number, fill: number): number {
  const [nx, ny, nz] = volume.dims
  if (!(x >= -0.5 && x <= nx - 0.5 && y >= -0.5 && y <= ny - 0.5 && z >= -0.5 && z <= nz - 0.5)) return fill
  const { data, offset } = volume
  const x0 = x <= 0 ? 0 : x >= nx - 1 ? nx - 1 : Math.floor(x)
  const fx = x <= 0 || x >= nx - 1 ? 0 : x - x0
  const y0 = y <= 0 ? 0 : y >= ny - 1 ? ny - 1 : Math.floor(y)
  const fy = y <= 0 || y >= ny - 1 ? 0 : y - y0
  const z0 = z <= 0 ? 0 : z >= nz - 1 ? nz - 1 : Math.floor(z)
  const fz = z <= 0 || z >= nz - 1 ? 0 : z - z0
  const p = offset + x0 + nx * y0 + nx * ny * z0
  const dx = fx === 0 ? 0 : 1
  const dy = fy === 0 ? 0 : nx
  const dz = fz === 0 ? 0 : nx * ny
  const c00 = lerp(data[p]!, data[p + dx]!, fx)
  const c10 = lerp(data[p + dy]!, data[p + dy + dx]!, fx)
  const c01 = lerp(data[p + dz]!, data[p + dz + dx]!, fx)
  const c11 = lerp(data[p + dz + dy]!, data[p + dz + dy + dx]!, fx)
  return lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz)
}

/** `a` where the weight is 0 exactly, so a NaN neighbour with no weight does not spread. */
function lerp(a: number, b: number, fraction: number): number {
  return fraction === 0 ? a : a + (b - a) * fraction
}
