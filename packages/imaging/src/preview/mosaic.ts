// A mosaic of a volume's slices as one greyscale image: what people look at before the numbers.

/** A display window in the data's units: values at `center - width/2` are black, at `center + width/2` white. */
export interface DisplayWindow {
  readonly center: number
  readonly width: number
}

export interface MosaicOptions {
  /** Default: the 1st to 99th percentile of the finite, non-zero values. */
  readonly window?: DisplayWindow
  /** How many slices, evenly spaced through the volume (default up to 16). */
  readonly slices?: number
  /** Tiles per row (default: as square as possible). */
  readonly columns?: number
  /** Only voxels where the mask is non-zero are shown; the rest is black. */
  readonly mask?: ArrayLike<number>
}

export interface Mosaic {
  readonly width: number
  readonly height: number
  readonly pixels: Uint8Array
  readonly window: DisplayWindow
  /** The slice index (third axis) of each tile, in reading order. */
  readonly slices: readonly number[]
}

/**
 * Tiles axial slices (the third axis of `dims`, x fastest) of a NIfTI-ordered volume into one 8-bit
 * image. Rows are flipped so anterior is up and the patient's right is on the left of the image, as
 * radiologists view RAS data (for a volume in the RAS+ layout dcm2niix and our writer produce).
 */
export function mosaic(data: ArrayLike<number>, dims: readonly [number, number, number], options: MosaicOptions = {}): Mosaic {
  const [nx, ny, nz] = dims
  if (data.length < nx * ny * nz) throw new RangeError(`mosaic: dims ${dims.join('x')} need ${nx * ny * nz} values, got ${data.length}`)
  // Evenly spaced through the slices that hold anything (non-zero, inside the mask), skipping the
  // outermost tenth of them at each end (a head's first and last slices say little).
  const [from, to] = occupiedSlices(data, dims, options.mask)
  const span = to - from + 1
  const count = Math.max(1, Math.min(span, options.slices ?? 16))
  const first = count === span ? from : from + Math.floor(span * 0.1)
  const last = count === span ? to : from + Math.ceil(span * 0.9) - 1
  const slices = Array.from({ length: count }, (_, i) => (count === 1 ? Math.round((first + last) / 2) : Math.round(first + ((last - first) * i) / (count - 1))))
  const columns = options.columns ?? Math.ceil(Math.sqrt(count))
  const rows = Math.ceil(count / columns)
  const window = options.window ?? percentileWindow(data, nx * ny * nz, options.mask)
  const low = window.center - window.width / 2
  const scale = 255 / (window.width > 0 ? window.width : 1)
  const width = columns * nx
  const height = rows * ny
  const pixels = new Uint8Array(width * height)
  slices.forEach((z, tile) => {
    const [tx, ty] = [(tile % columns) * nx, Math.floor(tile / columns) * ny]
    for (let y = 0; y < ny; y++) {
      const outRow = (ty + (ny - 1 - y)) * width + tx
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z)
        if (options.mask !== undefined && options.mask[i] === 0) continue
        const value = data[i]!
        const grey = (value - low) * scale
        pixels[outRow + x] = grey !== grey ? 0 : grey <= 0 ? 0 : grey >= 255 ? 255 : Math.round(grey)
      }
    }
  })
  return { width, height, pixels, window, slices }
}

/** The first and last slice with a finite non-zero value (inside the mask when given); all slices when none has. */
function occupiedSlices(data: ArrayLike<number>, dims: readonly [number, number, number], mask: ArrayLike<number> | undefined): [number, number] {
  const [nx, ny, nz] = dims
  const plane = nx * ny
  const occupied = (z: number): boolean => {
    for (let i = z * plane; i < (z + 1) * plane; i++) {
      const value = data[i]!
      if (value !== 0 && value === value && (mask === undefined || mask[i] !== 0)) return true
    }
    return false
  }
  let [from, to] = [0, nz - 1]
  while (from < nz && !occupied(from)) from++
  if (from === nz) return [0, nz - 1]
  while (to > from && !occupied(to)) to--
  return [from, to]
}

/** The 1st to 99th percentile of the finite values (inside the mask when given; zeros skipped without one). */
function percentileWindow(data: ArrayLike<number>, size: number, mask: ArrayLike<number> | undefined): DisplayWindow {
  const values: number[] = []
  const step = Math.max(1, Math.floor(size / 200_000)) // a sample is plenty for a display window
  for (let i = 0; i < size; i += step) {
    const value = data[i]!
    if (!Number.isFinite(value)) continue
    if (mask === undefined ? value === 0 : mask[i] === 0) continue
    values.push(value)
  }
  if (values.length === 0) return { center: 0, width: 1 }
  values.sort((a, b) => a - b)
  const at = (q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))]!
  const [lo, hi] = [at(0.01), at(0.99)]
  return hi > lo ? { center: (lo + hi) / 2, width: hi - lo } : { center: lo, width: Math.abs(lo) || 1 }
}
