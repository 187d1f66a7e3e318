// Samples the phantom onto a voxel grid: the label at each voxel centre, tissue properties averaged
// over n x n x n sub-voxel points where a voxel straddles an edge (partial volume, no stair steps).
import { apply, invertAffine, multiply, type Mat4 } from '@pacsflow/imaging'
import { classify } from './phantom.js'

export interface SampleRequest {
  readonly dims: readonly [number, number, number]
  /** Voxel (NIfTI order, x fastest) to head coordinates (mm): world-from-voxel composed with head-from-world. */
  readonly headFromVoxel: Mat4
  /** Per-label tables (indexed by label value); each gives one averaged output volume. */
  readonly properties: readonly Float64Array[]
  /** Sub-samples per axis at edges (default 2). */
  readonly supersample?: number
  readonly signal?: AbortSignal
}

export interface SampledVolumes {
  /** The label at each voxel centre. */
  readonly labels: Uint8Array
  /** One per property table: the table's value averaged over the voxel. */
  readonly values: Float32Array[]
  /** Voxels that were supersampled (they touch another label). */
  readonly edgeVoxels: number
}

/** Voxel to head coordinates, from a grid's voxel-to-world (LPS) affine and the head's pose (head to world). */
export function headFromVoxelAffine(worldFromVoxel: Mat4, worldFromHead: Mat4): Mat4 {
  return multiply(invertAffine(worldFromHead), worldFromVoxel)
}

/**
 * Calls `visit(i, x, y, z)` for every voxel in NIfTI order (i = linear index) with the voxel's
 * position under `affine`, stepping along rows instead of multiplying (no allocation per voxel).
 */
export function forEachPosition(dims: readonly [number, number, number], affine: Mat4, visit: (i: number, x: number, y: number, z: number) => void, signal?: AbortSignal): void {
  const [nx, ny, nz] = dims
  const m = affine
  for (let k = 0, i = 0; k < nz; k++) {
    signal?.throwIfAborted()
    for (let j = 0; j < ny; j++) {
      let x = m[0][1] * j + m[0][2] * k + m[0][3]
      let y = m[1][1] * j + m[1][2] * k + m[1][3]
      let z = m[2][1] * j + m[2][2] * k + m[2][3]
      for (let c = 0; c < nx; c++, i++) {
        visit(i, x, y, z)
        x += m[0][0]
        y += m[1][0]
        z += m[2][0]
      }
    }
  }
}

/** Labels at voxel centres, then each property table's value per voxel, sub-voxel averaged at edges. */
export function sampleGrid(request: SampleRequest): SampledVolumes {
  const [nx, ny, nz] = request.dims
  const total = nx * ny * nz
  const labels = new Uint8Array(total)
  const m = request.headFromVoxel
  const origin = apply(m, [0, 0, 0])
  const step = [0, 1, 2].map((axis) => [m[0][axis]!, m[1][axis]!, m[2][axis]!] as const)
  forEachPosition(request.dims, m, (i, x, y, z) => (labels[i] = classify(x, y, z)), request.signal)
  const values = request.properties.map((table) => {
    const out = new Float32Array(total)
    for (let i = 0; i < total; i++) out[i] = table[labels[i]!]!
    return out
  })
  const edgeVoxels = supersampleEdges(request, labels, values, step, origin)
  return { labels, values, edgeVoxels }
}

/** Replaces the values of every voxel with a differing 6-neighbour by the mean over n^3 sub-voxel points. */
function supersampleEdges(
  request: SampleRequest,
  labels: Uint8Array,
  values: Float32Array[],
  step: readonly (readonly [number, number, number])[],
  origin: readonly [number, number, number],
): number {
  const [nx, ny, nz] = request.dims
  const n = request.supersample ?? 2
  const offsets: number[] = []
  for (let a = 0; a < n; a++) offsets.push((a + 0.5) / n - 0.5)
  // Sub-voxel points relative to the voxel centre, in head coordinates.
  const points: [number, number, number][] = []
  for (const c of offsets) for (const b of offsets) for (const a of offsets) {
    points.push([0, 1, 2].map((w) => a * step[0]![w]! + b * step[1]![w]! + c * step[2]![w]!) as [number, number, number])
  }
  const tables = request.properties
  const sums = new Float64Array(tables.length)
  const plane = nx * ny
  let edges = 0
  for (let z = 0; z < nz; z++) {
    request.signal?.throwIfAborted()
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z)
        const label = labels[i]!
        const edge =
          (x > 0 && labels[i - 1] !== label) || (x < nx - 1 && labels[i + 1] !== label) ||
          (y > 0 && labels[i - nx] !== label) || (y < ny - 1 && labels[i + nx] !== label) ||
          (z > 0 && labels[i - plane] !== label) || (z < nz - 1 && labels[i + plane] !== label)
        if (!edge) continue
        edges++
        const cx = origin[0] + x * step[0]![0]! + y * step[1]![0]! + z * step[2]![0]!
        const cy = origin[1] + x * step[0]![1]! + y * step[1]![1]! + z * step[2]![1]!
        const cz = origin[2] + x * step[0]![2]! + y * step[1]![2]! + z * step[2]![2]!
        sums.fill(0)
        for (const point of points) {
          const sub = classify(cx + point[0], cy + point[1], cz + point[2])
          for (let p = 0; p < tables.length; p++) sums[p]! += tables[p]![sub]!
        }
        for (let p = 0; p < tables.length; p++) values[p]![i] = sums[p]! / points.length
      }
    }
  }
  return edges
}
