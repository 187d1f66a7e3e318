// Reorienting a voxel grid to the nearest canonical RAS layout by axis permutation and flips (no resampling).
import type { Vec3 } from '../dicom/types.js'
import { affineFromColumns, apply, column, scale, type Mat4 } from './matrix.js'

/** How to turn a grid into its nearest canonical one: output axis o reads source axis `axes[o]`, reversed where `flips[o]`. */
export interface Reorientation {
  readonly axes: readonly [number, number, number]
  readonly flips: readonly [boolean, boolean, boolean]
  readonly dims: readonly [number, number, number]
  readonly affine: Mat4
}

const permutations: readonly (readonly [number, number, number])[] = [
  [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0],
]

/**
 * The permutation and flips that bring each voxel axis closest to the world axis (R, A, S)
 * it points along, with the new origin at the voxel that becomes (0, 0, 0). The same
 * reorientation dcm2niix applies to 3D acquisitions (its nii_setOrtho): an orthogonal
 * acquisition ends with a positive diagonal affine; an oblique one keeps its obliquity.
 */
export function canonicalReorientation(affine: Mat4, dims: readonly [number, number, number]): Reorientation {
  const columns = [column(affine, 0), column(affine, 1), column(affine, 2)]
  const cosine = (world: number, axis: number): number => {
    const c = columns[axis]!
    return c[world]! / Math.hypot(c[0], c[1], c[2])
  }
  let best = permutations[0]!
  let bestScore = Number.NEGATIVE_INFINITY
  for (const axes of permutations) {
    const score = Math.abs(cosine(0, axes[0])) + Math.abs(cosine(1, axes[1])) + Math.abs(cosine(2, axes[2]))
    if (score > bestScore + 1e-9) {
      best = axes
      bestScore = score
    }
  }
  const flips = [0, 1, 2].map((o) => cosine(o, best[o]!) < 0) as unknown as [boolean, boolean, boolean]
  const start: Vec3 = [0, 1, 2].map((axis) => {
    const o = best.indexOf(axis)
    return flips[o] ? dims[axis]! - 1 : 0
  }) as unknown as Vec3
  const newColumns = [0, 1, 2].map((o) => scale(columns[best[o]!]!, flips[o] ? -1 : 1)) as [Vec3, Vec3, Vec3]
  return {
    axes: best,
    flips,
    dims: [dims[best[0]]!, dims[best[1]]!, dims[best[2]]!],
    affine: affineFromColumns(newColumns[0], newColumns[1], newColumns[2], apply(affine, start)),
  }
}

/** True when the reorientation changes nothing. */
export function isIdentityReorientation(r: Reorientation): boolean {
  return r.axes[0] === 0 && r.axes[1] === 1 && r.axes[2] === 2 && !r.flips[0] && !r.flips[1] && !r.flips[2]
}

type NumericArray = {
  length: number
  [index: number]: number
  set(array: ArrayLike<number>, offset?: number): void
  subarray(begin?: number, end?: number): NumericArray
  reverse(): NumericArray
}

/**
 * Copies `data` (x fastest, `volumes` 3D volumes one after another) into the layout the
 * reorientation describes. `target` must be a new array of the same type and length.
 */
export function reorientData<T extends NumericArray>(
  data: T,
  target: T,
  sourceDims: readonly [number, number, number],
  r: Reorientation,
  volumes = 1,
): T {
  const strides = [1, sourceDims[0], sourceDims[0] * sourceDims[1]]
  const step = [0, 1, 2].map((o) => strides[r.axes[o]!]! * (r.flips[o] ? -1 : 1))
  let base = 0
  for (let o = 0; o < 3; o++) if (r.flips[o]) base += (sourceDims[r.axes[o]!]! - 1) * strides[r.axes[o]!]!
  const [nx, ny, nz] = r.dims
  const [sx, sy, sz] = step as [number, number, number]
  const volumeSize = nx * ny * nz
  let out = 0
  for (let v = 0; v < volumes; v++) {
    const offset = v * volumeSize + base
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        let source = offset + z * sz + y * sy
        if (sx === 1 || sx === -1) {
          // The x axis stays the x axis: whole rows move at once (reversed in place when flipped).
          const start = sx === 1 ? source : source - nx + 1
          target.set(data.subarray(start, start + nx), out)
          if (sx === -1) target.subarray(out, out + nx).reverse()
          out += nx
        } else for (let x = 0; x < nx; x++, source += sx) target[out++] = data[source]!
      }
    }
  }
  return target
}
