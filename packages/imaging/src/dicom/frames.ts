// The frames of an instance: one from the top-level attributes (classic), or one per item of the functional groups (enhanced).
import { Tag } from './tags.js'
import type { ComplexComponent, DicomFrame, Orientation, Vec3 } from './types.js'
import type { Reader } from './values.js'
import { siemensIceEcho } from './vendor.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

// ImageType / FrameType values that name the complex component (PS3.3 C.8.13.1.1.1, C.8.16.1 and
// vendor usage: Siemens 'M'/'P', Philips 'M_FFE', 'P_SE', 'PHASE MAP', GE 'MAGNITUDE').
const COMPONENT_WORDS: Record<string, ComplexComponent> = {
  M: 'magnitude', MAGNITUDE: 'magnitude', MAG: 'magnitude',
  P: 'phase', PHASE: 'phase', 'PHASE MAP': 'phase', PHASE_MAP: 'phase',
  R: 'real', REAL: 'real',
  I: 'imaginary', IMAGINARY: 'imaginary', IMAG: 'imaginary',
}
const COMPONENT_PREFIXES: Record<string, ComplexComponent> = { M: 'magnitude', P: 'phase', R: 'real', I: 'imaginary' }

/** The complex component an ImageType/FrameType names, from its third value on; undefined when none does. */
export function componentFromImageType(imageType: readonly string[]): ComplexComponent | undefined {
  // Values 1 and 2 are ORIGINAL/DERIVED and PRIMARY/SECONDARY; the image flavour and vendor terms follow.
  for (const raw of imageType.slice(2)) {
    const value = raw.trim().toUpperCase()
    const word = COMPONENT_WORDS[value]
    if (word !== undefined) return word
    // Philips: <component>_<sequence>, e.g. M_FFE, P_FFE, R_IR, I_SE.
    const prefixed = /^([MPRI])_[A-Z0-9]+$/.exec(value)
    if (prefixed !== null) return COMPONENT_PREFIXES[prefixed[1] as string]
  }
  return undefined
}

/** ComplexImageComponent (0008,9208) as a component; MIXED and absent give undefined. */
export function componentFromComplexImageComponent(value: string | undefined): ComplexComponent | undefined {
  switch (value?.toUpperCase()) {
    case 'MAGNITUDE': return 'magnitude'
    case 'PHASE': return 'phase'
    case 'REAL': return 'real'
    case 'IMAGINARY': return 'imaginary'
    default: return undefined
  }
}

function vec3(values: readonly number[]): Vec3 | undefined {
  const [x, y, z] = values
  return x === undefined || y === undefined || z === undefined ? undefined : [x, y, z]
}

function orientation(values: readonly number[]): Orientation | undefined {
  const [a, b, c, d, e, f] = values
  if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined || f === undefined) return undefined
  return [a, b, c, d, e, f]
}

function pair(values: readonly number[]): readonly [number, number] | undefined {
  const [a, b] = values
  return a === undefined || b === undefined ? undefined : [a, b]
}

/** Sets `key` only when the value is defined (exactOptionalPropertyTypes). */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value
}

/** Geometry, VOI and rescale attributes common to a classic dataset and a functional group item. */
function classicFrame(reader: Reader, index: number): DicomFrame {
  const imageType = reader.strings(Tag.ImageType)
  const frame: Mutable<DicomFrame> = {
    index,
    rescaleSlope: reader.number(Tag.RescaleSlope) ?? 1,
    rescaleIntercept: reader.number(Tag.RescaleIntercept) ?? 0,
    imageType,
  }
  put(frame, 'imagePositionPatient', vec3(reader.numbers(Tag.ImagePositionPatient)))
  put(frame, 'imageOrientationPatient', orientation(reader.numbers(Tag.ImageOrientationPatient)))
  put(frame, 'pixelSpacing', pair(reader.numbers(Tag.PixelSpacing)))
  put(frame, 'sliceThickness', reader.number(Tag.SliceThickness))
  put(frame, 'spacingBetweenSlices', reader.number(Tag.SpacingBetweenSlices))
  put(frame, 'echoTime', reader.number(Tag.EchoTime))
  put(frame, 'echoNumber', reader.number(Tag.EchoNumbers) ?? siemensIceEcho(reader))
  put(frame, 'rescaleType', reader.string(Tag.RescaleType))
  put(frame, 'complexComponent', componentFromImageType(imageType)
    ?? componentFromComplexImageComponent(reader.string(Tag.ComplexImageComponent)))
  put(frame, 'acquisitionNumber', reader.number(Tag.AcquisitionNumber))
  put(frame, 'temporalPositionIndex', reader.number(Tag.TemporalPositionIdentifier))
  put(frame, 'windowCenter', reader.number(Tag.WindowCenter))
  put(frame, 'windowWidth', reader.number(Tag.WindowWidth))
  return frame
}

/** Classic files: every frame (usually one) carries the top-level attributes. */
export function classicFrames(reader: Reader, numberOfFrames: number): DicomFrame[] {
  const first = classicFrame(reader, 0)
  return Array.from({ length: numberOfFrames }, (_, index) => (index === 0 ? first : { ...first, index }))
}

/** Looks a functional group up in a per-frame item, then in the shared item (PS3.3 C.7.6.16). */
class FunctionalGroups {
  constructor(
    private readonly perFrame: Reader | undefined,
    private readonly shared: Reader | undefined,
  ) {}

  group(sequence: number): Reader | undefined {
    return this.perFrame?.firstItem(sequence) ?? this.shared?.firstItem(sequence)
  }
}

/**
 * Enhanced files (PS3.3 C.7.6.16): frame i from PerFrameFunctionalGroupsSequence item i, falling
 * back to SharedFunctionalGroupsSequence, then to the top level for what neither holds.
 */
export function enhancedFrames(reader: Reader, numberOfFrames: number): DicomFrame[] {
  const shared = reader.firstItem(Tag.SharedFunctionalGroupsSequence)
  const perFrame = reader.items(Tag.PerFrameFunctionalGroupsSequence)
  const top = classicFrame(reader, 0)
  const echoIndex = echoIndexer(reader, perFrame, shared)
  return Array.from({ length: numberOfFrames }, (_, index) => {
    const groups = new FunctionalGroups(perFrame[index], shared)
    const frame = enhancedFrame(groups, top, index)
    put(frame, 'echoNumber', echoIndex(frame))
    return frame
  })
}

function enhancedFrame(groups: FunctionalGroups, top: DicomFrame, index: number): Mutable<DicomFrame> {
  const frameType = groups.group(Tag.MRImageFrameTypeSequence)
  const imageType = frameType?.strings(Tag.FrameType) ?? []
  const transform = groups.group(Tag.PixelValueTransformationSequence)
  const measures = groups.group(Tag.PixelMeasuresSequence)
  const content = groups.group(Tag.FrameContentSequence)
  const voi = groups.group(Tag.FrameVOILUTSequence)
  const frame: Mutable<DicomFrame> = {
    index,
    rescaleSlope: transform?.number(Tag.RescaleSlope) ?? top.rescaleSlope,
    rescaleIntercept: transform?.number(Tag.RescaleIntercept) ?? top.rescaleIntercept,
    imageType: imageType.length > 0 ? imageType : top.imageType,
  }
  put(frame, 'imagePositionPatient', vec3(groups.group(Tag.PlanePositionSequence)?.numbers(Tag.ImagePositionPatient) ?? []))
  put(frame, 'imageOrientationPatient',
    orientation(groups.group(Tag.PlaneOrientationSequence)?.numbers(Tag.ImageOrientationPatient) ?? []))
  put(frame, 'pixelSpacing', pair(measures?.numbers(Tag.PixelSpacing) ?? []) ?? top.pixelSpacing)
  put(frame, 'sliceThickness', measures?.number(Tag.SliceThickness) ?? top.sliceThickness)
  put(frame, 'spacingBetweenSlices', measures?.number(Tag.SpacingBetweenSlices) ?? top.spacingBetweenSlices)
  put(frame, 'echoTime', groups.group(Tag.MREchoSequence)?.number(Tag.EffectiveEchoTime, 'FD') ?? top.echoTime)
  put(frame, 'echoNumber', top.echoNumber)
  put(frame, 'rescaleType', transform?.string(Tag.RescaleType) ?? top.rescaleType)
  put(frame, 'complexComponent', componentFromComplexImageComponent(frameType?.string(Tag.ComplexImageComponent))
    ?? componentFromImageType(imageType) ?? top.complexComponent)
  put(frame, 'acquisitionNumber', content?.number(Tag.FrameAcquisitionNumber, 'US') ?? top.acquisitionNumber)
  put(frame, 'temporalPositionIndex', content?.number(Tag.TemporalPositionIndex, 'UL'))
  const dimensionIndexValues = content?.numbers(Tag.DimensionIndexValues, 'UL') ?? []
  if (dimensionIndexValues.length > 0) frame.dimensionIndexValues = dimensionIndexValues
  put(frame, 'stackId', content?.string(Tag.StackID))
  put(frame, 'inStackPositionNumber', content?.number(Tag.InStackPositionNumber, 'UL'))
  put(frame, 'windowCenter', voi?.number(Tag.WindowCenter) ?? top.windowCenter)
  put(frame, 'windowWidth', voi?.number(Tag.WindowWidth) ?? top.windowWidth)
  return frame
}

/**
 * The echo index of an enhanced frame, from 1: the DimensionIndexValues entry whose pointer is
 * EffectiveEchoTime when the file indexes echoes, else the rank of the frame's echo time among
 * the file's distinct echo times when there are several, else a top-level EchoNumbers.
 */
function echoIndexer(reader: Reader, perFrame: readonly Reader[], shared: Reader | undefined): (frame: DicomFrame) => number | undefined {
  const pointers = reader.items(Tag.DimensionIndexSequence).map((item) => item.attributeTags(Tag.DimensionIndexPointer)[0])
  const echoDimension = pointers.indexOf(Tag.EffectiveEchoTime)
  if (echoDimension >= 0) return (frame) => frame.dimensionIndexValues?.[echoDimension]
  const times = new Set<number>()
  for (const item of perFrame.length > 0 ? perFrame : [undefined]) {
    const time = new FunctionalGroups(item, shared).group(Tag.MREchoSequence)?.number(Tag.EffectiveEchoTime, 'FD')
    if (time !== undefined) times.add(time)
  }
  // One echo time in the file says nothing about the series' echoes (a file may hold one echo of several).
  if (times.size < 2) return (frame) => frame.echoNumber
  const sorted = [...times].sort((a, b) => a - b)
  return (frame) => (frame.echoTime === undefined || !times.has(frame.echoTime) ? undefined : sorted.indexOf(frame.echoTime) + 1)
}
