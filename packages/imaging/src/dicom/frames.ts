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
  for (let index = 2; index < imageType.length; index++) {
    const value = (imageType[index] as string).trim().toUpperCase()
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

// Indexed reads rather than array destructuring, which a cold process runs through the iterator protocol.
function vec3(values: readonly number[]): Vec3 | undefined {
  return values.length < 3 ? undefined : [values[0] as number, values[1] as number, values[2] as number]
}

function orientation(values: readonly number[]): Orientation | undefined {
  if (values.length < 6) return undefined
  return [values[0] as number, values[1] as number, values[2] as number, values[3] as number, values[4] as number, values[5] as number]
}

function pair(values: readonly number[]): readonly [number, number] | undefined {
  return values.length < 2 ? undefined : [values[0] as number, values[1] as number]
}

// Optional attributes are set with one named store each (`if (x !== undefined) frame.key = x`): a
// helper storing by a variable key is one megamorphic store site for every key, slow in V8.

/** Geometry, VOI and rescale attributes common to a classic dataset and a functional group item. */
function classicFrame(reader: Reader, index: number): DicomFrame {
  const imageType = reader.strings(Tag.ImageType)
  const frame: Mutable<DicomFrame> = {
    index,
    rescaleSlope: reader.number(Tag.RescaleSlope) ?? 1,
    rescaleIntercept: reader.number(Tag.RescaleIntercept) ?? 0,
    imageType,
  }
  const position = vec3(reader.numbers(Tag.ImagePositionPatient))
  if (position !== undefined) frame.imagePositionPatient = position
  const cosines = orientation(reader.numbers(Tag.ImageOrientationPatient))
  if (cosines !== undefined) frame.imageOrientationPatient = cosines
  const spacing = pair(reader.numbers(Tag.PixelSpacing))
  if (spacing !== undefined) frame.pixelSpacing = spacing
  let number: number | undefined
  if ((number = reader.number(Tag.SliceThickness)) !== undefined) frame.sliceThickness = number
  if ((number = reader.number(Tag.SpacingBetweenSlices)) !== undefined) frame.spacingBetweenSlices = number
  if ((number = reader.number(Tag.EchoTime)) !== undefined) frame.echoTime = number
  if ((number = reader.number(Tag.EchoNumbers) ?? siemensIceEcho(reader)) !== undefined) frame.echoNumber = number
  const rescaleType = reader.string(Tag.RescaleType)
  if (rescaleType !== undefined) frame.rescaleType = rescaleType
  const component = componentFromImageType(imageType) ?? componentFromComplexImageComponent(reader.string(Tag.ComplexImageComponent))
  if (component !== undefined) frame.complexComponent = component
  if ((number = reader.number(Tag.AcquisitionNumber)) !== undefined) frame.acquisitionNumber = number
  if ((number = reader.number(Tag.TemporalPositionIdentifier)) !== undefined) frame.temporalPositionIndex = number
  if ((number = reader.number(Tag.WindowCenter)) !== undefined) frame.windowCenter = number
  if ((number = reader.number(Tag.WindowWidth)) !== undefined) frame.windowWidth = number
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
    const echoNumber = echoIndex(frame)
    if (echoNumber !== undefined) frame.echoNumber = echoNumber
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
  const position = vec3(groups.group(Tag.PlanePositionSequence)?.numbers(Tag.ImagePositionPatient) ?? [])
  if (position !== undefined) frame.imagePositionPatient = position
  const cosines = orientation(groups.group(Tag.PlaneOrientationSequence)?.numbers(Tag.ImageOrientationPatient) ?? [])
  if (cosines !== undefined) frame.imageOrientationPatient = cosines
  const spacing = pair(measures?.numbers(Tag.PixelSpacing) ?? []) ?? top.pixelSpacing
  if (spacing !== undefined) frame.pixelSpacing = spacing
  let number: number | undefined
  if ((number = measures?.number(Tag.SliceThickness) ?? top.sliceThickness) !== undefined) frame.sliceThickness = number
  if ((number = measures?.number(Tag.SpacingBetweenSlices) ?? top.spacingBetweenSlices) !== undefined) frame.spacingBetweenSlices = number
  number = groups.group(Tag.MREchoSequence)?.number(Tag.EffectiveEchoTime, 'FD') ?? top.echoTime
  if (number !== undefined) frame.echoTime = number
  if (top.echoNumber !== undefined) frame.echoNumber = top.echoNumber
  const rescaleType = transform?.string(Tag.RescaleType) ?? top.rescaleType
  if (rescaleType !== undefined) frame.rescaleType = rescaleType
  const component = componentFromComplexImageComponent(frameType?.string(Tag.ComplexImageComponent))
    ?? componentFromImageType(imageType) ?? top.complexComponent
  if (component !== undefined) frame.complexComponent = component
  enhancedContent(frame, content, top)
  if ((number = voi?.number(Tag.WindowCenter) ?? top.windowCenter) !== undefined) frame.windowCenter = number
  if ((number = voi?.number(Tag.WindowWidth) ?? top.windowWidth) !== undefined) frame.windowWidth = number
  return frame
}

/** The Frame Content functional group's attributes (PS3.3 C.7.6.16.2.2). */
function enhancedContent(frame: Mutable<DicomFrame>, content: Reader | undefined, top: DicomFrame): void {
  let number: number | undefined
  if ((number = content?.number(Tag.FrameAcquisitionNumber, 'US') ?? top.acquisitionNumber) !== undefined) frame.acquisitionNumber = number
  if ((number = content?.number(Tag.TemporalPositionIndex, 'UL')) !== undefined) frame.temporalPositionIndex = number
  const dimensionIndexValues = content?.numbers(Tag.DimensionIndexValues, 'UL') ?? []
  if (dimensionIndexValues.length > 0) frame.dimensionIndexValues = dimensionIndexValues
  const stackId = content?.string(Tag.StackID)
  if (stackId !== undefined) frame.stackId = stackId
  if ((number = content?.number(Tag.InStackPositionNumber, 'UL')) !== undefined) frame.inStackPositionNumber = number
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
