// Receiver profiles: what PACS and the surgical navigation systems need from a derived series,
// each rule with where it comes from and what is assumed (the README's profile table mirrors this).

export type ProfileName = 'pacs' | 'brainlab' | 'stealthstation'

/** One requirement of a receiving system, and its evidence. */
export interface ProfileRule {
  readonly id: 'single-frame' | 'shared-frame-of-reference' | 'square-pixels' | 'no-slice-gaps' | 'unsigned-pixels' | 'slice-limit'
  /** What the encoder does about it. */
  readonly effect: string
  /** Where the rule comes from. */
  readonly source: string
  /** What is taken as true without being verified here. */
  readonly assumption?: string
}

/** What the rules change in the encoding plan. */
export interface ProfileEffects {
  readonly requireFrameOfReference: boolean
  readonly squarePixels: boolean
  readonly thicknessEqualsSpacing: boolean
  readonly unsignedPixels: boolean
  /** At most this many slices (inclusive), and at most `maxScanLengthMm` from end to end. */
  readonly maxSlices?: number
  readonly maxScanLengthMm?: number
}

export interface Profile {
  readonly name: ProfileName
  readonly rules: readonly ProfileRule[]
  readonly effects: ProfileEffects
}

const singleFrame: ProfileRule = {
  id: 'single-frame',
  effect: 'classic MR/CT/SC Image Storage, one slice per file, uncompressed Explicit VR Little Endian (every profile; never Enhanced multi-frame)',
  source:
    'Brainlab DICOM conformance statements (PatXfer 5, 2007, lists MR and CT Image Storage but no Enhanced MR); field reports quoted in the pacsflow issue that navigation systems refuse multi-frame series',
  assumption: 'current navigation software still accepts classic single-frame series; not verified against a current conformance statement',
}

const sharedFrameOfReference: ProfileRule = {
  id: 'shared-frame-of-reference',
  effect: "FrameOfReferenceUID is the reference series' own; a reference without one is refused (DICOMISE_REFERENCE)",
  source:
    'PS3.3 C.7.4.1: images that share a FrameOfReferenceUID are spatially related; field reports quoted in the pacsflow issue that the navigation systems overlay such series without a new registration',
  assumption: 'the receiving system trusts a shared FrameOfReferenceUID, and the volume really was aligned to the reference (the QSM stages guarantee it; the encoder cannot check it)',
}

const squarePixels: ProfileRule = {
  id: 'square-pixels',
  effect: 'rows and columns are resampled to the finer of the two pixel spacings when they differ (slice positions unchanged)',
  source: 'field reports quoted in the pacsflow issue (isotropic in-plane pixels for Brainlab); not found in a public Brainlab document',
  assumption: 'isotropic in-plane pixels are required, not isotropic voxels (slice spacing is kept)',
}

const noSliceGaps: ProfileRule = {
  id: 'no-slice-gaps',
  effect: 'SliceThickness is written equal to the slice spacing (contiguous, no gap, no overlap)',
  source:
    'navigation scan protocols ask for thin, evenly spaced slices with no gap (public descriptions of the "Stealth MRI" protocol; Brainlab scan protocols are referred to by its user guides)',
  assumption: 'an importer may read SliceThickness as well as the positions, so the two are made to agree',
}

const unsignedPixels: ProfileRule = {
  id: 'unsigned-pixels',
  effect: 'PixelRepresentation 0 (unsigned 16-bit) with RescaleIntercept shifting negative values up',
  source: 'field reports quoted in the pacsflow issue (systems that refuse negative pixels); no public Medtronic document found',
  assumption: 'the system applies RescaleSlope/RescaleIntercept to MR images; if it does not, values read as stored integers (0.001 ppm per unit, offset by 32768)',
}

const sliceLimit: ProfileRule = {
  id: 'slice-limit',
  effect: 'more than 399 slices, or a scan length over 1000 mm, is refused (DICOMISE_PROFILE)',
  source:
    'Brainlab user guide (Spine SRS 1.5, "Import and Export Restrictions"): only data sets with a maximum scan length of 1000 mm and less than 400 slices can be imported',
  assumption: 'the same limits hold for the cranial navigation applications (the guide is for Spine SRS)',
}

const none: ProfileEffects = {
  requireFrameOfReference: false,
  squarePixels: false,
  thicknessEqualsSpacing: false,
  unsignedPixels: false,
}

/** The built-in profiles. `pacs` changes nothing beyond the classic single-frame encoding every profile gets. */
export const profiles: Readonly<Record<ProfileName, Profile>> = {
  pacs: { name: 'pacs', rules: [singleFrame], effects: none },
  brainlab: {
    name: 'brainlab',
    rules: [singleFrame, sharedFrameOfReference, squarePixels, noSliceGaps, sliceLimit],
    effects: { ...none, requireFrameOfReference: true, squarePixels: true, thicknessEqualsSpacing: true, maxSlices: 399, maxScanLengthMm: 1000 },
  },
  stealthstation: {
    name: 'stealthstation',
    rules: [singleFrame, sharedFrameOfReference, noSliceGaps, unsignedPixels],
    effects: { ...none, requireFrameOfReference: true, thicknessEqualsSpacing: true, unsignedPixels: true },
  },
}
