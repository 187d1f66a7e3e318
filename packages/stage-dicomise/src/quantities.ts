// What the encoded values mean: the presets (QSM susceptibility, label maps) and the shape of a custom quantity.

/** A displayed value range, in the quantity's units (WindowCenter / WindowWidth, PS3.3 C.11.2). */
export interface Window {
  readonly center: number
  readonly width: number
}

/** What a derived image holds, and how to store it. */
export interface Quantity {
  /**
   * A short code for ImageType value 3 and descriptions, e.g. `'QSM'`: at most 16 of A-Z, 0-9,
   * space and underscore (VR CS, PS3.5 6.2).
   */
  readonly name: string
  /** For people and DerivationDescription, e.g. `'magnetic susceptibility'`. */
  readonly description?: string
  /** The unit of the real-world values, e.g. `'ppm'`; stated in DerivationDescription. */
  readonly units?: string
  /**
   * RescaleType (PS3.3 C.11.1.1.2), the unit of the rescaled values: `'HU'` for CT numbers,
   * `'US'` (unspecified, the default) or another short text such as `'PPM'`.
   */
  readonly rescaleType?: string
  /**
   * The preferred quantisation step (RescaleSlope), e.g. 0.001 ppm: used when the data's range
   * fits the stored integers with it; otherwise the next coarser 1-2-5 step that fits is used.
   * Default: the finest 1-2-5 step that fits the range.
   */
  readonly step?: number
  /** A label map: nearest-neighbour resampling, integer values stored as they are (slope 1). */
  readonly labels?: boolean
  /** The default display window; default: the 0.5th to 99.5th percentile of the data. */
  readonly window?: Window
}

/** The built-in quantities, by name. */
export const quantities = {
  /**
   * QSM magnetic susceptibility in ppm: 0.001 ppm per stored unit holds +-32.767 ppm in int16,
   * far beyond tissue values (about -0.2 to +0.4 ppm), so no clamping is needed. The window
   * shows -0.2 to +0.2 ppm (deep grey nuclei, STN and GPi stand out).
   */
  susceptibility: {
    name: 'QSM',
    description: 'magnetic susceptibility (QSM)',
    units: 'ppm',
    rescaleType: 'PPM',
    step: 0.001,
    window: { center: 0, width: 0.4 },
  },
  /** Segmentation labels (integers): nearest-neighbour resampling, stored exactly. */
  labels: { name: 'LABELS', description: 'label map', labels: true, step: 1 },
} as const satisfies Readonly<Record<string, Quantity>>

export type QuantityName = keyof typeof quantities
