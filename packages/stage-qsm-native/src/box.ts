// The mask's bounding box and the FFT-friendly padded box around it: where each step's FFTs run.
import { PacsflowError } from '@pacsflow/core'
import { cropVolume, nextFastSize, padVolume, type Shape3 } from '@pacsflow/imaging'
import type { Mask } from './morphology.js'

/** A sub-box of a grid: `shape` voxels from `offset`. */
export interface Box {
  readonly offset: Shape3
  readonly shape: Shape3
}

/** The smallest box holding every voxel of the mask; QSM_INPUT when the mask is empty. */
export function boundingBox(mask: Mask, shape: Shape3): Box {
  const [nx, ny, nz] = shape
  const min = [nx, ny, nz]
  const max = [-1, -1, -1]
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (mask[i] !== 1) continue
        if (x < min[0]!) min[0] = x
        if (x > max[0]!) max[0] = x
        if (y < min[1]!) min[1] = y
        if (y > max[1]!) max[1] = y
        if (z < min[2]!) min[2] = z
        if (z > max[2]!) max[2] = z
      }
    }
  }
  if (max[0] === -1) throw new PacsflowError('QSM_INPUT', 'the brain mask is empty')
  return { offset: [min[0]!, min[1]!, min[2]!], shape: [max[0]! - min[0]! + 1, max[1]! - min[1]! + 1, max[2]! - min[2]! + 1] }
}

/**
 * A working box: the mask's bounding box grown by `marginVoxels` on each side and then to
 * 2/3/5-smooth sizes, as a window onto the grid. Parts of it may lie outside the grid (they read
 * as zero): `inner` is the part of the grid it covers, and where that part sits in the padded box.
 */
export interface PaddedBox {
  /** The padded (FFT-friendly) dims. */
  readonly shape: Shape3
  /** The covered part of the grid. */
  readonly inner: Box
  /** Where `inner` starts within the padded box. */
  readonly at: Shape3
}

export function paddedBox(mask: Mask, shape: Shape3, marginVoxels: readonly number[]): PaddedBox {
  const box = boundingBox(mask, shape)
  const padded: number[] = []
  const start: number[] = []
  const end: number[] = []
  const at: number[] = []
  for (let axis = 0; axis < 3; axis++) {
    const margin = Math.max(0, Math.ceil(marginVoxels[axis] ?? 0))
    const size = nextFastSize(box.shape[axis]! + 2 * margin)
    // Centre the bounding box in the padded box, then clip the window to the grid.
    const from = box.offset[axis]! - Math.floor((size - box.shape[axis]!) / 2)
    const lo = Math.max(0, from)
    const hi = Math.min(shape[axis]!, from + size)
    padded.push(size)
    start.push(lo)
    end.push(hi)
    at.push(lo - from)
  }
  return {
    shape: padded as unknown as Shape3,
    inner: { offset: start as unknown as Shape3, shape: [end[0]! - start[0]!, end[1]! - start[1]!, end[2]! - start[2]!] },
    at: at as unknown as Shape3,
  }
}

/** The values of a grid volume inside the padded box (zero where the box leaves the grid), float64. */
export function toBox(data: ArrayLike<number>, shape: Shape3, box: PaddedBox): Float64Array {
  const inner = cropVolume(data, shape, box.inner.shape, box.inner.offset)
  return padVolume(inner, box.inner.shape, box.shape, box.at)
}

/** A mask inside the padded box. */
export function maskToBox(mask: Mask, shape: Shape3, box: PaddedBox): Mask {
  return Uint8Array.from(toBox(mask, shape, box))
}

/** A padded-box volume back on the grid (zero outside the box), float32. */
export function fromBox(data: ArrayLike<number>, shape: Shape3, box: PaddedBox): Float32Array {
  const inner = cropVolume(data, box.shape, box.inner.shape, box.at)
  const out = new Float32Array(shape[0] * shape[1] * shape[2])
  const [ix, iy, iz] = box.inner.shape
  const [ox, oy, oz] = box.inner.offset
  for (let z = 0; z < iz; z++) {
    for (let y = 0; y < iy; y++) {
      const from = ix * (y + iy * z)
      const to = ox + shape[0] * (y + oy + shape[1] * (z + oz))
      for (let x = 0; x < ix; x++) out[to + x] = inner[from + x] as number
    }
  }
  return out
}
