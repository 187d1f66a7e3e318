// Writes one classic single-frame DICOM series: one file per slice per volume (echo), pixels
// taken from a NIfTI-ordered volume through the grid's index mapping.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decimal, integer, part10File, text, ushort, type Element } from './dicom-elements.js'
import { slicePosition, type AcquisitionGrid, type NiftiGeometry } from './grid.js'

export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4'

/** One volume of a series (an echo): stored values in NIfTI order and the elements only its files carry. */
export interface SeriesVolume {
  readonly stored: Uint16Array
  /** E.g. EchoTime and EchoNumbers. */
  readonly elements: readonly Element[]
  /** File name prefix, e.g. `E1_` (empty for a single volume). */
  readonly prefix: string
}

export interface SeriesWrite {
  readonly dir: string
  readonly grid: AcquisitionGrid
  readonly geometry: NiftiGeometry
  /** The attributes every file shares, except geometry, UIDs and pixel layout (added here). */
  readonly shared: readonly Element[]
  readonly volumes: readonly SeriesVolume[]
  /** SOP Instance UID of file `index` (volume-major: volume v, slice k is `v * slices + k`). */
  readonly instanceUid: (index: number) => string
  readonly implementationClassUid: string
  readonly implementationVersionName: string
  readonly signal?: AbortSignal
}

/** Files per series written at once. */
const IN_FLIGHT = 8

/** Writes every file of the series; returns their paths in InstanceNumber order. */
export async function writeSeries(request: SeriesWrite): Promise<string[]> {
  const { grid } = request
  const [columns, rows, slices] = grid.dims
  await mkdir(request.dir, { recursive: true })
  const common = [...request.shared, ...geometryElements(grid)]
  const paths: string[] = []
  const pending = new Set<Promise<void>>()
  try {
    for (let v = 0; v < request.volumes.length; v++) {
      const volume = request.volumes[v]!
      for (let k = 0; k < slices; k++) {
        request.signal?.throwIfAborted()
        const index = v * slices + k
        const uid = request.instanceUid(index)
        const position = slicePosition(grid, k)
        const normal = grid.axes[2]
        const { bytes, pixelOffset } = part10File(
          { sopClassUid: MR_IMAGE_STORAGE, sopInstanceUid: uid, implementationClassUid: request.implementationClassUid, implementationVersionName: request.implementationVersionName },
          [
            ...common,
            ...volume.elements,
            text(0x00080016, 'UI', MR_IMAGE_STORAGE), // SOPClassUID (SOP Common C.12.1)
            text(0x00080018, 'UI', uid),
            integer(0x00200013, index + 1), // InstanceNumber: volume-major, ascending along the normal within a volume
            decimal(0x00200032, ...position), // ImagePositionPatient
            decimal(0x00201041, position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2]), // SliceLocation
          ],
          rows * columns * 2,
        )
        copySlice(volume.stored, request.geometry, grid, k, new DataView(bytes.buffer, pixelOffset, rows * columns * 2))
        const path = join(request.dir, `${volume.prefix}IM${String(k + 1).padStart(4, '0')}.dcm`)
        paths.push(path)
        const write = writeFile(path, bytes).finally(() => pending.delete(write))
        pending.add(write)
        if (pending.size >= IN_FLIGHT) await Promise.race(pending)
      }
    }
  } finally {
    // Whatever stops the loop, no write keeps running behind the caller; the first failure is thrown.
    const results = await Promise.allSettled(pending)
    const failed = results.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }
  return paths
}

/** Image Plane (C.7.6.2) and Image Pixel (C.7.6.3) attributes that follow from the grid. */
function geometryElements(grid: AcquisitionGrid): Element[] {
  const [columns, rows] = grid.dims
  const [row, column] = grid.axes
  return [
    decimal(0x00180050, grid.voxelMm[2]), // SliceThickness: contiguous slices
    decimal(0x00180088, grid.voxelMm[2]), // SpacingBetweenSlices
    decimal(0x00200037, ...row, ...column), // ImageOrientationPatient
    ushort(0x00280002, 1),
    text(0x00280004, 'CS', 'MONOCHROME2'),
    ushort(0x00280010, rows),
    ushort(0x00280011, columns),
    decimal(0x00280030, grid.voxelMm[1], grid.voxelMm[0]), // PixelSpacing: between rows, between columns
    ushort(0x00280100, 16),
    ushort(0x00280101, 12), // BitsStored: 12, as Siemens stores magnitude and phase
    ushort(0x00280102, 11),
    ushort(0x00280103, 0),
  ]
}

/** Slice k in DICOM order (row 0 first, columns along the row) from the NIfTI-ordered volume, little endian. */
function copySlice(stored: Uint16Array, geometry: NiftiGeometry, grid: AcquisitionGrid, k: number, out: DataView): void {
  const [columns, rows] = grid.dims
  const [sc, sr, ss] = geometry.strides
  let at = 0
  for (let r = 0; r < rows; r++) {
    let source = geometry.base + r * sr + k * ss
    for (let c = 0; c < columns; c++, source += sc, at += 2) out.setUint16(at, stored[source]!, true)
  }
}
