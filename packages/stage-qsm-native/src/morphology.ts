// Binary morphology on 3D masks: Euclidean distance transform, erosion/dilation by a ball, holes, connected components.
import type { Shape3 } from '@pacsflow/imaging'

/** A binary mask, x fastest: 1 inside, 0 outside. */
export type Mask = Uint8Array

/**
 * The squared Euclidean distance (mm^2) from every voxel to the nearest voxel where `feature` is 1
 * (0 on feature voxels; Infinity when there is none), for anisotropic voxels. Exact, linear time:
 * the lower envelope of parabolas along each axis in turn (Felzenszwalb & Huttenlocher, "Distance
 * transforms of sampled functions", Theory of Computing 8:415, 2012).
 */
export function squaredDistance(feature: Mask, shape: Shape3, voxelSizeMm: readonly number[]): Float64Array {
  const [nx, ny, nz] = shape
  const out = new Float64Array(nx * ny * nz)
  for (let i = 0; i < out.length; i++) out[i] = feature[i] === 1 ? 0 : Number.POSITIVE_INFINITY
  const longest = Math.max(nx, ny, nz)
  const line = new Float64Array(longest)
  const result = new Float64Array(longest)
  const hull = new Int32Array(longest)
  const bounds = new Float64Array(longest + 1)
  const strides = [1, nx, nx * ny]
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis] as number
    const stride = strides[axis] as number
    const h2 = (voxelSizeMm[axis] as number) ** 2
    const lines = (nx * ny * nz) / n
    for (let l = 0; l < lines; l++) {
      // The first element of line l: all positions with index 0 along this axis, in order.
      const start = axis === 0 ? l * nx : axis === 1 ? (l % nx) + nx * ny * Math.floor(l / nx) : l
      for (let j = 0; j < n; j++) line[j] = out[start + j * stride] as number
      envelope(line, result, hull, bounds, n, h2)
      for (let j = 0; j < n; j++) out[start + j * stride] = result[j] as number
    }
  }
  return out
}

/** One-dimensional squared distance along a line with spacing^2 = h2 (Felzenszwalb & Huttenlocher, algorithm DT(f)). */
function envelope(f: Float64Array, d: Float64Array, v: Int32Array, z: Float64Array, n: number, h2: number): void {
  let k = -1
  for (let q = 0; q < n; q++) {
    const fq = f[q] as number
    if (fq === Number.POSITIVE_INFINITY) continue
    let s = Number.NEGATIVE_INFINITY
    while (k >= 0) {
      const p = v[k] as number
      // Where the parabolas from p and q intersect (in index units).
      s = (fq + h2 * q * q - ((f[p] as number) + h2 * p * p)) / (2 * h2 * (q - p))
      if (s <= (z[k] as number)) k--
      else break
    }
    k++
    v[k] = q
    z[k] = k === 0 ? Number.NEGATIVE_INFINITY : s
    z[k + 1] = Number.POSITIVE_INFINITY
  }
  if (k < 0) {
    d.fill(Number.POSITIVE_INFINITY, 0, n)
    return
  }
  let j = 0
  for (let q = 0; q < n; q++) {
    while ((z[j + 1] as number) < q) j++
    const p = v[j] as number
    d[q] = h2 * (q - p) * (q - p) + (f[p] as number)
  }
}

/** Voxels of `mask` whose ball of `radiusMm` lies wholly inside it (no outside voxel within the radius). */
export function erode(mask: Mask, shape: Shape3, voxelSizeMm: readonly number[], radiusMm: number): Mask {
  if (radiusMm <= 0) return mask.slice()
  const outside = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) outside[i] = mask[i] === 1 ? 0 : 1
  const d2 = squaredDistance(outside, shape, voxelSizeMm)
  const r2 = radiusMm * radiusMm
  const out = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] === 1 && (d2[i] as number) > r2 ? 1 : 0
  return out
}

/** Voxels within `radiusMm` of the mask (the mask grown by a ball). */
export function dilate(mask: Mask, shape: Shape3, voxelSizeMm: readonly number[], radiusMm: number): Mask {
  if (radiusMm <= 0) return mask.slice()
  const d2 = squaredDistance(mask, shape, voxelSizeMm)
  const r2 = radiusMm * radiusMm
  const out = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) out[i] = (d2[i] as number) <= r2 ? 1 : 0
  return out
}

/**
 * Breadth-first flood over face neighbours (6-connectivity) from the voxels already in `queue[0..tail)`:
 * a neighbour joins when `accept(j)` is true, and `mark(j)` records it. Returns the new tail.
 */
function flood(queue: Int32Array, tail: number, shape: Shape3, accept: (j: number) => boolean, mark: (j: number) => void): number {
  const [nx, ny, nz] = shape
  const plane = nx * ny
  for (let head = 0; head < tail; head++) {
    const i = queue[head] as number
    const x = i % nx
    const y = Math.floor(i / nx) % ny
    const z = Math.floor(i / plane)
    for (let n = 0; n < 6; n++) {
      let j = -1
      if (n === 0 && x > 0) j = i - 1
      else if (n === 1 && x < nx - 1) j = i + 1
      else if (n === 2 && y > 0) j = i - nx
      else if (n === 3 && y < ny - 1) j = i + nx
      else if (n === 4 && z > 0) j = i - plane
      else if (n === 5 && z < nz - 1) j = i + plane
      if (j >= 0 && accept(j)) {
        mark(j)
        queue[tail++] = j
      }
    }
  }
  return tail
}

/**
 * Labels the 6-connected components of `mask` (1, 2, ... in scan order; 0 outside) and returns
 * the labels and each component's size (index = label).
 */
export function connectedComponents(mask: Mask, shape: Shape3): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(mask.length)
  const queue = new Int32Array(mask.length)
  const sizes = [0]
  let label = 0
  const accept = (j: number): boolean => mask[j] === 1 && labels[j] === 0
  const mark = (j: number): void => {
    labels[j] = label
  }
  for (let seed = 0; seed < mask.length; seed++) {
    if (!accept(seed)) continue
    label = sizes.length
    labels[seed] = label
    queue[0] = seed
    sizes.push(flood(queue, 1, shape, accept, mark))
  }
  return { labels, sizes }
}

/** The largest 6-connected component of the mask (empty when the mask is). */
export function largestComponent(mask: Mask, shape: Shape3): Mask {
  const { labels, sizes } = connectedComponents(mask, shape)
  let best = 0
  for (let label = 1; label < sizes.length; label++) if ((sizes[label] as number) > (sizes[best] as number)) best = label
  const out = new Uint8Array(mask.length)
  if (best === 0) return out
  for (let i = 0; i < mask.length; i++) out[i] = labels[i] === best ? 1 : 0
  return out
}

/** The mask with its holes filled: every outside region that does not reach the border of the grid. */
export function fillHoles(mask: Mask, shape: Shape3): Mask {
  const [nx, ny, nz] = shape
  const reached = new Uint8Array(mask.length)
  const queue = new Int32Array(mask.length)
  const accept = (j: number): boolean => mask[j] === 0 && reached[j] === 0
  const mark = (j: number): void => {
    reached[j] = 1
  }
  let tail = 0
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z)
        if ((x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1) && accept(i)) {
          mark(i)
          queue[tail++] = i
        }
      }
    }
  }
  flood(queue, tail, shape, accept, mark)
  const out = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) out[i] = reached[i] === 1 ? 0 : 1
  return out
}

/** How many voxels are set. */
export function countMask(mask: Mask): number {
  let count = 0
  for (let i = 0; i < mask.length; i++) count += mask[i] as number
  return count
}
