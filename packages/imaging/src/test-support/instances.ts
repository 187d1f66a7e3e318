// Test helper: DicomInstance objects for synthetic slice stacks (no files), to test grouping and selection.
import type { ComplexComponent, DicomInstance, Orientation, Vec3 } from '../dicom/types.js'

export interface SliceSpec {
  readonly series?: string
  readonly seriesNumber?: number
  readonly description?: string
  readonly echo?: number
  readonly echoTime?: number
  readonly component?: ComplexComponent
  readonly position: Vec3
  readonly orientation?: Orientation
  readonly instanceNumber?: number
  readonly rows?: number
  readonly columns?: number
  readonly spacing?: readonly [number, number]
  readonly acquisition?: '2D' | '3D'
  readonly imageType?: readonly string[]
  readonly acquisitionNumber?: number
  readonly acquisitionTime?: string
}

let counter = 0

export function instance(spec: SliceSpec): DicomInstance {
  counter++
  const component = spec.component ?? 'magnitude'
  const imageType = spec.imageType ?? ['ORIGINAL', 'PRIMARY', component === 'phase' ? 'P' : 'M', 'ND']
  return {
    path: `/data/${spec.series ?? 's'}/${counter}.dcm`,
    sizeBytes: 1000,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
    sopInstanceUid: `1.2.3.${counter}`,
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: `1.2.3.4.${spec.seriesNumber ?? 1}`,
    seriesNumber: spec.seriesNumber ?? 1,
    seriesDescription: spec.description ?? 'gre',
    protocolName: spec.description ?? 'gre',
    modality: 'MR',
    manufacturer: 'SIEMENS',
    mrAcquisitionType: spec.acquisition ?? '3D',
    acquisitionTime: spec.acquisitionTime ?? '120000',
    imageType,
    instanceNumber: spec.instanceNumber ?? counter,
    ...(spec.acquisitionNumber === undefined ? {} : { acquisitionNumber: spec.acquisitionNumber }),
    rows: spec.rows ?? 4,
    columns: spec.columns ?? 3,
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    hasPixelData: true,
    frames: [
      {
        index: 0,
        imagePositionPatient: spec.position,
        imageOrientationPatient: spec.orientation ?? [1, 0, 0, 0, 1, 0],
        pixelSpacing: spec.spacing ?? [2, 2],
        sliceThickness: 3,
        ...(spec.echo === undefined ? {} : { echoNumber: spec.echo }),
        echoTime: spec.echoTime ?? 5 * (spec.echo ?? 1),
        rescaleSlope: 1,
        rescaleIntercept: 0,
        complexComponent: component,
        imageType,
      },
    ],
  }
}

/** A stack of `count` slices along z (axial), `gap` mm apart. */
export function axialStack(count: number, spec: Omit<SliceSpec, 'position'> & { gap?: number; z0?: number }): DicomInstance[] {
  return Array.from({ length: count }, (_, k) =>
    instance({ ...spec, position: [-10, -20, (spec.z0 ?? 0) + k * (spec.gap ?? 3)] }),
  )
}
