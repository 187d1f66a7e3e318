// The DICOM data model the index produces: one DicomInstance per file, one DicomFrame per image in it.

/** A 3-vector (patient coordinates, LPS, mm). */
export type Vec3 = readonly [number, number, number]
/** ImageOrientationPatient: row direction cosines, then column direction cosines. */
export type Orientation = readonly [number, number, number, number, number, number]

/** Which part of complex MR data an image holds. */
export type ComplexComponent = 'magnitude' | 'phase' | 'real' | 'imaginary'

/**
 * One image (a classic file's only frame, or one frame of an enhanced multi-frame file),
 * with the attributes that place and scale it. For enhanced files they come from the
 * per-frame functional groups, falling back to the shared ones.
 */
export interface DicomFrame {
  /** Frame index within the file, from 0. */
  readonly index: number
  readonly imagePositionPatient?: Vec3
  readonly imageOrientationPatient?: Orientation
  /** PixelSpacing: [row spacing (between rows), column spacing (between columns)], mm. */
  readonly pixelSpacing?: readonly [number, number]
  readonly sliceThickness?: number
  readonly spacingBetweenSlices?: number
  /** Milliseconds (EchoTime, or EffectiveEchoTime in enhanced files). */
  readonly echoTime?: number
  /** EchoNumbers (classic) or the echo index derived for enhanced frames, from 1. */
  readonly echoNumber?: number
  readonly rescaleSlope: number
  readonly rescaleIntercept: number
  readonly rescaleType?: string
  /** From ImageType / FrameType / ComplexImageComponent; undefined when nothing says. */
  readonly complexComponent?: ComplexComponent
  /** FrameType for enhanced frames; the file's ImageType for classic ones. */
  readonly imageType: readonly string[]
  readonly acquisitionNumber?: number
  readonly temporalPositionIndex?: number
  /** Enhanced: DimensionIndexValues of the frame. */
  readonly dimensionIndexValues?: readonly number[]
  /** Enhanced: StackID and InStackPositionNumber. */
  readonly stackId?: string
  readonly inStackPositionNumber?: number
  readonly windowCenter?: number
  readonly windowWidth?: number
}

/** What the index keeps about one DICOM file: plain JSON, no pixel data. */
export interface DicomInstance {
  readonly path: string
  readonly sizeBytes: number
  readonly transferSyntaxUid: string
  readonly sopClassUid: string
  readonly sopInstanceUid: string

  readonly patientId?: string
  readonly patientName?: string
  readonly patientBirthDate?: string
  readonly patientSex?: string

  readonly studyInstanceUid: string
  readonly studyDate?: string
  readonly studyTime?: string
  readonly studyDescription?: string
  readonly accessionNumber?: string

  readonly seriesInstanceUid: string
  readonly seriesNumber?: number
  readonly seriesDescription?: string
  readonly protocolName?: string
  readonly sequenceName?: string
  readonly modality?: string
  readonly frameOfReferenceUid?: string
  readonly acquisitionTime?: string

  readonly manufacturer?: string
  readonly manufacturerModelName?: string
  readonly softwareVersions?: string
  readonly magneticFieldStrength?: number
  /** MHz. */
  readonly imagingFrequency?: number
  /** MRAcquisitionType: '2D' or '3D'. */
  readonly mrAcquisitionType?: string
  /** ScanningSequence, e.g. ['GR'] or ['EP']. */
  readonly scanningSequence?: readonly string[]
  readonly repetitionTime?: number
  readonly flipAngle?: number
  readonly gantryTilt?: number

  /** The file's ImageType (classic) or ImageType of the enhanced file. */
  readonly imageType: readonly string[]
  readonly instanceNumber?: number
  readonly acquisitionNumber?: number

  readonly rows: number
  readonly columns: number
  readonly bitsAllocated: number
  readonly bitsStored: number
  readonly highBit: number
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1
  readonly samplesPerPixel: number
  readonly photometricInterpretation: string
  readonly numberOfFrames: number
  readonly hasPixelData: boolean
  /**
   * Vendor scaling that lives in private tags (dcmjs drops them when naturalising, so the
   * index reads them from the raw dataset). Philips: (2005,100E) scale slope, (2005,100D)
   * scale intercept, per frame where the file has several.
   */
  readonly philipsScale?: { readonly slope: number; readonly intercept: number }

  /**
   * Where an uncompressed (native, not deflated) pixel data value starts in the file, so that
   * frames are read with one positioned read instead of parsing the header again.
   */
  readonly nativePixelData?: {
    readonly offset: number
    readonly vr: string
    /** Float Pixel Data (7FE0,0008) rather than Pixel Data. */
    readonly float: boolean
  }

  /** One per frame (1 for classic files). */
  readonly frames: readonly DicomFrame[]
}
