// Splits a series' images into rectilinear volumes (by echo, complex component, orientation) and checks each.
import { PacsflowError, serializeError, type SerializedError } from '@pacsflow/core'
import type { DicomFrame, DicomInstance, Orientation, Vec3 } from '../dicom/types.js'
import { affineFromColumns, cross, dot, norm, normalize, scale, sub } from '../geometry/matrix.js'
import { groupBy } from './group-by.js'
import type { DicomVolume, Plane, SliceRef } from './types.js'
import { compareText } from './compare.js'

/** Tolerances of the volume checks, in mm and degrees. */
export interface VolumeTolerances {
  /** Positions closer than this along the normal are the same slice (default 0.01 mm). */
  readonly samePositionMm?: number
  /** A gap may differ from the typical spacing by this fraction before it is uneven (default 0.1, as dcm2niix). */
  readonly spacingFraction?: number
  /** Angle between the slice stack and the normal beyond which the stack is sheared (default 0.1 degree). */
  readonly tiltDegrees?: number
}

interface Image {
  readonly instance: DicomInstance
  readonly frame: DicomFrame
  readonly position: Vec3
  readonly orientation: Orientation
}

const fix = (value: number, digits = 4): string => (Math.abs(value) < 10 ** -digits ? 0 : value).toFixed(digits)

/**
 * The volumes of one series. Images that cannot form a volume are reported as coded
 * problems (`SLICE_MISSING`, `SLICE_SPACING_UNEVEN`, `GANTRY_TILT`, `SERIES_INCONSISTENT`),
 * never silently dropped or stacked into a wrong volume.
 */
export function buildVolumes(
  instances: readonly DicomInstance[],
  tolerances: VolumeTolerances = {},
): { volumes: DicomVolume[]; problems: SerializedError[] } {
  const groups = new Map<string, Image[]>()
  const problems: SerializedError[] = []
  for (const instance of instances) {
    if (!instance.hasPixelData) continue
    for (const frame of instance.frames) {
      if (frame.imagePositionPatient === undefined || frame.imageOrientationPatient === undefined) {
        problems.push(
          serializeError(
            new PacsflowError('SERIES_INCONSISTENT', `${instance.path}: frame ${frame.index} has no position or orientation`, {
              details: { path: instance.path, frame: frame.index },
            }),
          ),
        )
        continue
      }
      const image = { instance, frame, position: frame.imagePositionPatient, orientation: frame.imageOrientationPatient }
      const key = [
        frame.echoNumber ?? (frame.echoTime === undefined ? '' : `te${fix(frame.echoTime, 3)}`),
        frame.complexComponent ?? '',
        image.orientation.map((value) => fix(value)).join(','),
      ].join('|')
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [image])
      else group.push(image)
    }
  }
  const volumes: DicomVolume[] = []
  for (const images of groups.values()) {
    try {
      volumes.push(makeVolume(images, tolerances))
    } catch (error) {
      problems.push(serializeError(error))
    }
  }
  return { volumes: nameVolumes(volumes), problems }
}

function makeVolume(images: readonly Image[], tolerances: VolumeTolerances): Omit<DicomVolume, 'id'> & { id: string } {
  const first = images[0]!
  const paths = (list: readonly Image[]): string[] => [...new Set(list.map((image) => image.instance.path))].slice(0, 10)
  checkUniform(images, (image) => `${image.instance.rows}x${image.instance.columns}`, 'matrix size', paths)
  checkUniform(images, (image) => (image.frame.pixelSpacing ?? []).map((v) => fix(v)).join('\\'), 'pixel spacing', paths)
  checkUniform(images, (image) => `${image.instance.bitsAllocated}/${image.instance.pixelRepresentation}`, 'pixel type', paths)
  const pixelSpacing = first.frame.pixelSpacing
  if (pixelSpacing === undefined) {
    throw new PacsflowError('SERIES_INCONSISTENT', `${first.instance.path}: no PixelSpacing`, { details: { path: first.instance.path } })
  }

  const rowDirection: Vec3 = [first.orientation[0], first.orientation[1], first.orientation[2]]
  const columnDirection: Vec3 = [first.orientation[3], first.orientation[4], first.orientation[5]]
  const normal = normalize(cross(rowDirection, columnDirection))
  const samePosition = tolerances.samePositionMm ?? 0.01

  // Stack images by their distance along the normal; images at one position are timepoints.
  const byDistance = [...images].sort((a, b) => dot(a.position, normal) - dot(b.position, normal))
  const stacks: Image[][] = []
  for (const image of byDistance) {
    const last = stacks.at(-1)
    if (last !== undefined && Math.abs(dot(image.position, normal) - dot(last[0]!.position, normal)) < samePosition) last.push(image)
    else stacks.push([image])
  }
  const timepoints = stacks[0]!.length
  const uneven = stacks.find((stack) => stack.length !== timepoints)
  if (uneven !== undefined) {
    throw new PacsflowError(
      'SLICE_MISSING',
      `${first.instance.path} and others: ${stacks.length} slice positions, but not each with ${timepoints} images (one has ${uneven.length}): an image is missing`,
      { details: { path: first.instance.path, paths: paths(images), positions: stacks.length, timepoints } },
    )
  }
  for (const stack of stacks) stack.sort(documentOrder)
  // Follow the acquisition's own direction (InstanceNumber / frame order), as dcm2niix does.
  if (stacks.length > 1 && documentOrder(stacks[0]![0]!, stacks.at(-1)![0]!) > 0) stacks.reverse()

  const { sliceSpacing, step } = checkSpacing(stacks, normal, first, tolerances, paths(images))
  const frames: SliceRef[] = []
  for (let t = 0; t < timepoints; t++) {
    for (const stack of stacks) {
      const image = stack[t]!
      frames.push({
        path: image.instance.path,
        frame: image.frame.index,
        sopInstanceUid: image.instance.sopInstanceUid,
        position: image.position,
        rescaleSlope: image.frame.rescaleSlope,
        rescaleIntercept: image.frame.rescaleIntercept,
      })
    }
  }
  const { plane, obliqueDegrees } = planeOf(normal)
  const frame = first.frame
  return {
    id: '',
    seriesInstanceUid: first.instance.seriesInstanceUid,
    ...(frame.echoNumber === undefined ? {} : { echoNumber: frame.echoNumber }),
    ...(frame.echoTime === undefined ? {} : { echoTime: frame.echoTime }),
    ...(frame.complexComponent === undefined ? {} : { complexComponent: frame.complexComponent }),
    imageType: frame.imageType,
    rows: first.instance.rows,
    columns: first.instance.columns,
    slices: stacks.length,
    timepoints,
    pixelSpacing,
    orientation: first.orientation,
    normal,
    sliceSpacing,
    ...(frame.sliceThickness === undefined ? {} : { sliceThickness: frame.sliceThickness }),
    plane,
    obliqueDegrees,
    affineLps: affineFromColumns(
      scale(rowDirection, pixelSpacing[1]),
      scale(columnDirection, pixelSpacing[0]),
      step,
      stacks[0]![0]!.position,
    ),
    frames,
  }
}

function checkUniform(
  images: readonly Image[],
  keyOf: (image: Image) => string,
  what: string,
  paths: (list: readonly Image[]) => string[],
): void {
  const values = groupBy(images, keyOf)
  if (values.size > 1) {
    const [a, b] = [...values.entries()]
    throw new PacsflowError(
      'SERIES_INCONSISTENT',
      `mixed ${what} in one volume: ${a![0]} (${a![1][0]!.instance.path}) and ${b![0]} (${b![1][0]!.instance.path})`,
      { details: { path: a![1][0]!.instance.path, what, values: [...values.keys()], paths: paths(images) } },
    )
  }
}

/** The order the scanner gave: InstanceNumber, then frame index, then SOP Instance UID. */
function documentOrder(a: Image, b: Image): number {
  const at = a.frame.temporalPositionIndex ?? a.instance.acquisitionNumber ?? 0
  const bt = b.frame.temporalPositionIndex ?? b.instance.acquisitionNumber ?? 0
  return (
    at - bt ||
    (a.instance.instanceNumber ?? 0) - (b.instance.instanceNumber ?? 0) ||
    a.frame.index - b.frame.index ||
    compareText(a.instance.sopInstanceUid, b.instance.sopInstanceUid)
  )
}

function checkSpacing(
  stacks: readonly Image[][],
  normal: Vec3,
  first: Image,
  tolerances: VolumeTolerances,
  paths: string[],
): { sliceSpacing: number; step: Vec3 } {
  if (stacks.length === 1) {
    const thickness = first.frame.spacingBetweenSlices ?? first.frame.sliceThickness ?? 1
    return { sliceSpacing: thickness, step: scale(normal, thickness) }
  }
  const positions = stacks.map((stack) => stack[0]!.position)
  const distances = positions.map((p) => dot(p, normal))
  const gaps = distances.slice(1).map((d, i) => Math.abs(d - distances[i]!))
  const typical = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!
  const fraction = tolerances.spacingFraction ?? 0.1
  const worst = gaps.findIndex((gap) => Math.abs(gap - typical) > fraction * typical)
  if (worst >= 0) {
    const gap = gaps[worst]!
    const ratio = gap / typical
    const missing = ratio > 1.5 && Math.abs(ratio - Math.round(ratio)) < fraction
    throw new PacsflowError(
      missing ? 'SLICE_MISSING' : 'SLICE_SPACING_UNEVEN',
      missing
        ? `${Math.round(ratio) - 1} slice(s) missing between ${fix(distances[worst]!, 2)} mm and ${fix(distances[worst + 1]!, 2)} mm along the normal (spacing ${fix(typical, 3)} mm) in ${stacks[worst]![0]!.instance.path}'s volume`
        : `uneven slice spacing: ${fix(gap, 3)} mm between slices ${worst} and ${worst + 1}, typically ${fix(typical, 3)} mm, in ${first.instance.path}'s volume`,
      { details: { path: stacks[worst]![0]!.instance.path, paths, gapMm: gap, typicalMm: typical, index: worst } },
    )
  }
  const span = sub(positions.at(-1)!, positions[0]!)
  const step = scale(span, 1 / (positions.length - 1))
  const tiltDegrees = (Math.acos(Math.min(1, Math.abs(dot(normalize(span), normal)))) * 180) / Math.PI
  if (tiltDegrees > (tolerances.tiltDegrees ?? 0.1)) {
    throw new PacsflowError(
      'GANTRY_TILT',
      `the slices of ${first.instance.path}'s volume are sheared by ${fix(tiltDegrees, 2)} degrees (gantry tilt): not converted, as that would misplace every voxel`,
      { details: { path: first.instance.path, paths, tiltDegrees } },
    )
  }
  return { sliceSpacing: norm(step), step }
}

function planeOf(normal: Vec3): { plane: Plane; obliqueDegrees: number } {
  const magnitudes = normal.map(Math.abs)
  const axis = magnitudes.indexOf(Math.max(...magnitudes))
  const plane: Plane = axis === 0 ? 'sagittal' : axis === 1 ? 'coronal' : 'axial'
  return { plane, obliqueDegrees: (Math.acos(Math.min(1, magnitudes[axis]!)) * 180) / Math.PI }
}

/** Gives each volume a readable id that is unique in its series: e1-magnitude, e2-phase, ... */
function nameVolumes(volumes: readonly (Omit<DicomVolume, 'id'> & { id: string })[]): DicomVolume[] {
  const sorted = [...volumes].sort(
    (a, b) =>
      (a.echoNumber ?? 0) - (b.echoNumber ?? 0) ||
      (a.echoTime ?? 0) - (b.echoTime ?? 0) ||
      compareText(a.complexComponent ?? '', b.complexComponent ?? '') ||
      compareText(a.frames[0]?.path ?? '', b.frames[0]?.path ?? ''),
  )
  const used = new Map<string, number>()
  return sorted.map((volume) => {
    const base = [volume.echoNumber === undefined ? undefined : `e${volume.echoNumber}`, volume.complexComponent ?? undefined]
      .filter((part) => part !== undefined)
      .join('-') || 'volume'
    const count = (used.get(base) ?? 0) + 1
    used.set(base, count)
    return { ...volume, id: count === 1 ? base : `${base}-${count}` }
  })
}
