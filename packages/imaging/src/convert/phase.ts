// Phase images to radians: vendor-stored integer ranges mapped onto [-pi, pi).
import type { DicomInstance } from '../dicom/types.js'

/** A linear map from stored values to radians: radians = stored * slope + intercept. */
export interface RadiansScaling {
  readonly slope: number
  readonly intercept: number
}

/**
 * The map from stored phase values to radians. Phase images use their whole stored range
 * for one cycle: Siemens stores 0..4095 (12 bits; RescaleSlope 2 / Intercept -4096 spreads
 * it over -4096..4094), so stored s is (s / 4096) * 2pi - pi. Signed storage is centred on 0.
 */
export function phaseRadiansScaling(instance: Pick<DicomInstance, 'bitsStored' | 'pixelRepresentation'>): RadiansScaling {
  const levels = 2 ** instance.bitsStored
  const slope = (2 * Math.PI) / levels
  const storedMin = instance.pixelRepresentation === 1 ? -levels / 2 : 0
  return { slope, intercept: -storedMin * slope - Math.PI }
}

/**
 * Phase values in any known range, e.g. `{ min: -4096, max: 4096 }` for Siemens rescaled
 * values or `{ min: -3142, max: 3142 }` for milliradians, mapped linearly onto [-pi, pi].
 */
export function phaseToRadians(values: ArrayLike<number>, range: { readonly min: number; readonly max: number }): Float32Array {
  const out = new Float32Array(values.length)
  const factor = (2 * Math.PI) / (range.max - range.min)
  for (let i = 0; i < values.length; i++) out[i] = (values[i]! - range.min) * factor - Math.PI
  return out
}
