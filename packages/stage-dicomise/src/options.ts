// The encoder's options, and their validation into one resolved plan (done at once, in the factory).
import { PacsflowError } from '@pacsflow/core'
import type { Interpolation } from '@pacsflow/imaging'
import { profiles, type Profile, type ProfileName } from './profiles.js'
import { quantities, type Quantity, type QuantityName, type Window } from './quantities.js'

/** How pixel values are stored. */
export interface EncodingOptions {
  /** `'signed'` int16 (default) or `'unsigned'` uint16, for systems that refuse negative pixels. */
  readonly pixel?: 'signed' | 'unsigned'
  /** A fixed RescaleSlope (the quantisation step); the data must then fit without clamping. */
  readonly slope?: number
  /** A fixed RescaleIntercept; default 0 for signed storage, chosen to fit for unsigned. */
  readonly intercept?: number
  /** Clamp values to [low, high] before storing (only when asked: the seed system clamped QSM to +-0.35 ppm). */
  readonly clamp?: readonly [number, number]
  /** WindowCenter / WindowWidth in the quantity's units (default: the quantity's, else from the data). */
  readonly window?: Window
}

/** Everything `niftiToDicom` and the `dicomise` stage take besides the input. */
export interface DicomiseOptions {
  /** SeriesDescription (LO, at most 64 characters); default `'<quantity> (pacsflow)'`. */
  readonly seriesDescription?: string
  /** SeriesNumber; default the reference's plus 1000. */
  readonly seriesNumber?: number
  /** What the values are: a preset name or your own {@link Quantity} (default `'susceptibility'`). */
  readonly quantity?: QuantityName | Quantity
  /** The IOD: MR Image (default), CT Image or Secondary Capture (`'OT'`). */
  readonly modality?: 'MR' | 'CT' | 'OT'
  /** `'reference'` (default): resample onto the reference series' grid; `'own'`: keep the NIfTI's grid. */
  readonly grid?: 'reference' | 'own'
  /** Default trilinear; nearest for label quantities. */
  readonly interpolation?: Interpolation
  /** Value where the volume has no data: outside its field of view, and non-finite voxels (default 0). */
  readonly fill?: number
  readonly encoding?: EncodingOptions
  /** The receiving system (default `'pacs'`); see the README for each profile's rules and sources. */
  readonly profile?: ProfileName
  /** Write "NOT FOR DIAGNOSTIC USE" into ImageComments (default true). */
  readonly notForDiagnosticUse?: boolean
  /** More ImageComments text (LT). */
  readonly imageComments?: string
  /** How the volume was made (e.g. `'QSMxT 7.2, Laplacian unwrapping, V-SHARP, RTS'`), for DerivationDescription. */
  readonly processing?: string
}

/** The options with defaults applied and the profile's rules folded in. */
export interface ResolvedOptions {
  readonly seriesDescription?: string
  readonly seriesNumber?: number
  readonly quantity: Quantity
  readonly modality: 'MR' | 'CT' | 'OT'
  readonly grid: 'reference' | 'own'
  readonly interpolation: Interpolation
  readonly fill: number
  readonly pixel: 'signed' | 'unsigned'
  readonly slope?: number
  readonly intercept?: number
  readonly clamp?: readonly [number, number]
  readonly window?: Window
  readonly profile: Profile
  readonly notForDiagnosticUse: boolean
  readonly imageComments?: string
  readonly processing?: string
}

function invalid(message: string, details: Record<string, unknown> = {}): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `dicomise: ${message}`, { details })
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

/** A value that a DICOM text VR can hold: no backslash (the value separator) and no control characters (PS3.5 6.2). */
function text(value: string | undefined, what: string, max: number, multiline = false): string | undefined {
  if (value === undefined) return undefined
  const bad = multiline ? /[\\\u0000-\u0008\u000b\u000e-\u001f]/ : /[\\\u0000-\u001f]/
  if (typeof value !== 'string' || value.length > max || bad.test(value)) {
    throw invalid(`${what} must be text of at most ${max} characters without backslashes or control characters`, { [what]: value })
  }
  return value
}

function resolveQuantity(quantity: DicomiseOptions['quantity']): Quantity {
  if (quantity === undefined) return quantities.susceptibility
  if (typeof quantity === 'string') {
    const preset = (quantities as Readonly<Record<string, Quantity>>)[quantity]
    if (preset === undefined) throw invalid(`unknown quantity '${quantity}' (use ${Object.keys(quantities).join(', ')} or a Quantity object)`)
    return preset
  }
  if (!/^[A-Z0-9 _]{1,16}$/.test(quantity.name)) throw invalid('quantity.name must be 1-16 of A-Z, 0-9, space, underscore (VR CS)', { name: quantity.name })
  text(quantity.description, 'quantity.description', 200)
  text(quantity.units, 'quantity.units', 32)
  text(quantity.rescaleType, 'quantity.rescaleType', 64)
  if (quantity.step !== undefined && !(finite(quantity.step) && quantity.step > 0)) throw invalid('quantity.step must be a positive number')
  checkWindow(quantity.window, 'quantity.window')
  return quantity
}

function checkWindow(window: Window | undefined, what: string): void {
  if (window !== undefined && !(finite(window.center) && finite(window.width) && window.width > 0)) {
    throw invalid(`${what} needs a finite center and a positive width`, { [what]: window })
  }
}

function resolveEncoding(encoding: EncodingOptions, profile: Profile): Pick<ResolvedOptions, 'pixel' | 'slope' | 'intercept' | 'clamp' | 'window'> {
  const unsigned = profile.effects.unsignedPixels
  if (encoding.pixel !== undefined && encoding.pixel !== 'signed' && encoding.pixel !== 'unsigned') throw invalid("encoding.pixel must be 'signed' or 'unsigned'")
  if (unsigned && encoding.pixel === 'signed') {
    throw invalid(`profile '${profile.name}' needs unsigned pixels; drop encoding.pixel or use another profile`)
  }
  if (encoding.slope !== undefined && !(finite(encoding.slope) && encoding.slope > 0)) throw invalid('encoding.slope must be a positive number')
  if (encoding.intercept !== undefined && !finite(encoding.intercept)) throw invalid('encoding.intercept must be a finite number')
  const clamp = encoding.clamp
  if (clamp !== undefined && !(Array.isArray(clamp) && clamp.length === 2 && finite(clamp[0]) && finite(clamp[1]) && clamp[0] < clamp[1])) {
    throw invalid('encoding.clamp must be [low, high] with low < high')
  }
  checkWindow(encoding.window, 'encoding.window')
  return {
    pixel: unsigned ? 'unsigned' : (encoding.pixel ?? 'signed'),
    ...(encoding.slope === undefined ? {} : { slope: encoding.slope }),
    ...(encoding.intercept === undefined ? {} : { intercept: encoding.intercept }),
    ...(clamp === undefined ? {} : { clamp: [clamp[0], clamp[1]] as const }),
    ...(encoding.window === undefined ? {} : { window: encoding.window }),
  }
}

/** Validates `options` and applies defaults and the profile. Throws `INVALID_OPTIONS` naming the option. */
export function resolveOptions(options: DicomiseOptions = {}): ResolvedOptions {
  const profile = profiles[options.profile ?? 'pacs']
  if (profile === undefined) throw invalid(`unknown profile '${String(options.profile)}' (use ${Object.keys(profiles).join(', ')})`)
  const quantity = resolveQuantity(options.quantity)
  const modality = options.modality ?? 'MR'
  if (!['MR', 'CT', 'OT'].includes(modality)) throw invalid("modality must be 'MR', 'CT' or 'OT'")
  const grid = options.grid ?? 'reference'
  if (grid !== 'reference' && grid !== 'own') throw invalid("grid must be 'reference' or 'own'")
  const interpolation = options.interpolation ?? (quantity.labels === true ? 'nearest' : 'trilinear')
  if (interpolation !== 'trilinear' && interpolation !== 'nearest') throw invalid("interpolation must be 'trilinear' or 'nearest'")
  if (options.seriesNumber !== undefined && !(Number.isInteger(options.seriesNumber) && options.seriesNumber >= 0 && options.seriesNumber < 2 ** 31)) {
    throw invalid('seriesNumber must be an integer from 0 to 2^31-1')
  }
  if (options.fill !== undefined && !finite(options.fill)) throw invalid('fill must be a finite number')
  const seriesDescription = text(options.seriesDescription, 'seriesDescription', 64)
  const imageComments = text(options.imageComments, 'imageComments', 4000, true)
  const processing = text(options.processing, 'processing', 600, true)
  return {
    ...(seriesDescription === undefined ? {} : { seriesDescription }),
    ...(options.seriesNumber === undefined ? {} : { seriesNumber: options.seriesNumber }),
    quantity,
    modality,
    grid,
    interpolation,
    fill: options.fill ?? 0,
    ...resolveEncoding(options.encoding ?? {}, profile),
    profile,
    notForDiagnosticUse: options.notForDiagnosticUse ?? true,
    ...(imageComments === undefined ? {} : { imageComments }),
    ...(processing === undefined ? {} : { processing }),
  }
}
