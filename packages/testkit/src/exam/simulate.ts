// The acquisitions: multi-echo GRE magnitude and phase from the phantom's susceptibility, and a T1-weighted image.
import { apply, multiply, type Mat4 } from '@pacsflow/imaging'
import { dipoleFields } from './forward.js'
import { b0DirectionInVoxels, rasToLps, voxelSpacing, type NiftiGeometry, type Vec3 } from './grid.js'
import type { ResolvedExam, ResolvedT1 } from './options.js'
import { randomSource, type RandomSource } from './random.js'
import { forEachPosition, headFromVoxelAffine, sampleGrid } from './sample.js'
import { LABEL, TISSUES, tissueTable } from './tissues.js'

/** Proton gyromagnetic ratio over 2π, MHz/T (CODATA 2018: 42.577 478 MHz/T, rounded as QSM papers use it). */
export const GAMMA_MHZ_PER_T = 42.576

/** The receiver phase offset phi0 (radians) at a point (mm from the head centre, LPS): smooth, the same for every echo. */
export const RECEIVER_OFFSET = {
  formula: 'phi0 = c0 + cx*x/100 + cy*y/100 + cz*z/100 + cxx*((x/100)^2 - (y/100)^2), x y z in mm from the head centre (LPS)',
  c0: 0.6,
  cx: 0.8,
  cy: -0.5,
  cz: 0.3,
  cxx: 0.4,
} as const

export function receiverOffset(x: number, y: number, z: number): number {
  const [u, v, w] = [x / 100, y / 100, z / 100]
  const c = RECEIVER_OFFSET
  return c.c0 + c.cx * u + c.cy * v + c.cz * w + c.cxx * (u * u - v * v)
}

export const echoTimesMs = (exam: ResolvedExam): number[] => Array.from({ length: exam.echoes }, (_, e) => exam.te1Ms + e * exam.dteMs)

export interface GreSimulation {
  readonly labels: Uint8Array
  readonly mask: Uint8Array
  /** ppm relative to CSF, partial-volume averaged; 0 outside the brain. */
  readonly chi: Float32Array
  /** ppm: the field of `chi` alone. */
  readonly localField: Float32Array
  /** ppm: local plus the background of air and bone (or the local field alone without `backgroundField`). */
  readonly totalField: Float32Array
  /** Stored magnitude per echo (12-bit), NIfTI order. */
  readonly magnitude: Uint16Array[]
  /** Stored phase per echo, 0..4095 for [-π, π), NIfTI order. */
  readonly phase: Uint16Array[]
  readonly noiseSigma: number
  readonly edgeVoxels: number
  readonly b0Voxel: Vec3
}

/** Samples the phantom on the GRE grid, computes its fields and the noisy complex echoes. */
export function simulateGre(exam: ResolvedExam, geometry: NiftiGeometry, worldFromHead: Mat4, signal?: AbortSignal): GreSimulation {
  const tes = echoTimesMs(exam)
  const brainChi = tissueTable((t) => (t.brain ? t.chi : 0))
  const background = tissueTable((t) => t.backgroundChi)
  const decays = tes.map((te) => tissueTable((t) => (t.protonDensity === 0 ? 0 : t.protonDensity * Math.exp(-te / t.t2StarMs))))
  const worldFromVoxel = rasToLps(geometry.affine)
  const sampled = sampleGrid({
    dims: geometry.dims,
    headFromVoxel: headFromVoxelAffine(worldFromVoxel, worldFromHead),
    properties: [brainChi, background, ...decays],
    ...(signal === undefined ? {} : { signal }),
  })
  const [chi, backgroundChi, ...decay] = sampled.values as [Float32Array, Float32Array, ...Float32Array[]]
  const brain = new Set(TISSUES.filter((t) => t.brain).map((t) => t.label))
  const mask = sampled.labels.map((label) => (brain.has(label) ? 1 : 0))
  const b0Voxel = b0DirectionInVoxels(geometry.affine)
  const fields = dipoleFields(chi, exam.backgroundField ? backgroundChi : undefined, {
    dims: geometry.dims,
    voxelMm: voxelSpacing(geometry.affine),
    b0Voxel,
    // The background's 9.4 ppm air/tissue edges need a kernel without Nyquist ringing (see DipoleKernelKind);
    // chi keeps the issue's continuous kernel, so the truth's local field is what the engine inverts.
    kernelB: 'finite-difference',
    ...(signal === undefined ? {} : { signal }),
  })
  const totalField = new Float32Array(chi.length)
  for (let i = 0; i < totalField.length; i++) totalField[i] = fields.a[i]! + fields.b[i]!
  const wm = TISSUES[LABEL.whiteMatter]!
  const scale = exam.wmSignal / (wm.protonDensity * Math.exp(-exam.te1Ms / wm.t2StarMs))
  const noiseSigma = exam.snr === null ? 0 : exam.wmSignal / exam.snr
  const phi0 = receiverOffsetMap(geometry, worldFromHead, exam.receiverOffset)
  const magnitude: Uint16Array[] = []
  const phase: Uint16Array[] = []
  tes.forEach((te, e) => {
    signal?.throwIfAborted()
    const echo = complexEcho({
      decay: decay[e]!, scale, field: totalField, phi0, noiseSigma,
      // Radians per ppm at this echo: 2π γ B0 TE 1e-6 (γ in Hz/T, TE in s).
      radiansPerPpm: 2 * Math.PI * GAMMA_MHZ_PER_T * 1e6 * exam.b0Tesla * (te / 1000) * 1e-6,
      random: randomSource(exam.seed, `gre-noise-echo-${e + 1}`),
    })
    magnitude.push(echo.magnitude)
    phase.push(echo.phase)
  })
  return { labels: sampled.labels, mask, chi, localField: fields.a, totalField, magnitude, phase, noiseSigma, edgeVoxels: sampled.edgeVoxels, b0Voxel }
}

/** phi0 at every voxel, or zeros. */
function receiverOffsetMap(geometry: NiftiGeometry, worldFromHead: Mat4, enabled: boolean): Float32Array {
  const out = new Float32Array(geometry.dims[0] * geometry.dims[1] * geometry.dims[2])
  if (!enabled) return out
  // Head-centred world axes: the offset belongs to the receiver, so it does not move with a misaligned head.
  const centre = apply(worldFromHead, [0, 0, 0])
  forEachPosition(geometry.dims, rasToLps(geometry.affine), (i, x, y, z) => (out[i] = receiverOffset(x - centre[0], y - centre[1], z - centre[2])))
  return out
}

interface EchoRequest {
  readonly decay: Float32Array
  readonly scale: number
  readonly field: Float32Array
  readonly phi0: Float32Array
  readonly radiansPerPpm: number
  readonly noiseSigma: number
  readonly random: RandomSource
}

const TWO_PI = 2 * Math.PI

/**
 * One echo: S = scale·decay·exp(i(radiansPerPpm·field + phi0)) plus complex Gaussian noise,
 * stored as Siemens does: magnitude as 12-bit integers, phase as round((φ+π)/2π·4096) mod 4096.
 */
function complexEcho(request: EchoRequest): { magnitude: Uint16Array; phase: Uint16Array } {
  const { decay, scale, field, phi0, radiansPerPpm, noiseSigma, random } = request
  const magnitude = new Uint16Array(decay.length)
  const phase = new Uint16Array(decay.length)
  for (let i = 0; i < decay.length; i++) {
    const amplitude = scale * decay[i]!
    const angle = radiansPerPpm * field[i]! + phi0[i]!
    const re = amplitude * Math.cos(angle) + noiseSigma * random.normal()
    const im = amplitude * Math.sin(angle) + noiseSigma * random.normal()
    magnitude[i] = Math.min(4095, Math.round(Math.hypot(re, im)))
    const stored = Math.round(((Math.atan2(im, re) + Math.PI) / TWO_PI) * 4096)
    phase[i] = stored >= 4096 ? stored - 4096 : stored
  }
  return { magnitude, phase }
}

/** The head pose of the T1: rotated about the head centre, then moved; and the motion from the GRE's pose. */
export function t1HeadPose(worldFromHead: Mat4, t1: ResolvedT1, rotation: readonly Vec3[]): { worldFromHead: Mat4; motion: Mat4 } {
  const centre = apply(worldFromHead, [0, 0, 0])
  const moved: Mat4 = [
    [rotation[0]![0], rotation[1]![0], rotation[2]![0], centre[0] + t1.translationMm[0]],
    [rotation[0]![1], rotation[1]![1], rotation[2]![1], centre[1] + t1.translationMm[1]],
    [rotation[0]![2], rotation[1]![2], rotation[2]![2], centre[2] + t1.translationMm[2]],
    [0, 0, 0, 1],
  ]
  const gre: Mat4 = [
    [1, 0, 0, -centre[0]],
    [0, 1, 0, -centre[1]],
    [0, 0, 1, -centre[2]],
    [0, 0, 0, 1],
  ]
  return { worldFromHead: moved, motion: multiply(moved, gre) }
}

/** White matter in the T1 image, stored units. */
const T1_SCALE = 1000

/** The T1-weighted image: tissue intensity times a smooth receive bias, with Rician noise; 12-bit stored. */
export function simulateT1(geometry: NiftiGeometry, worldFromHead: Mat4, t1: ResolvedT1, seed: number, signal?: AbortSignal): { stored: Uint16Array; noiseSigma: number } {
  const worldFromVoxel = rasToLps(geometry.affine)
  const headFromVoxel = headFromVoxelAffine(worldFromVoxel, worldFromHead)
  const sampled = sampleGrid({ dims: geometry.dims, headFromVoxel, properties: [tissueTable((t) => t.t1Weighted)], ...(signal === undefined ? {} : { signal }) })
  const intensity = sampled.values[0]!
  const noiseSigma = (T1_SCALE * TISSUES[LABEL.whiteMatter]!.t1Weighted) / t1.snr
  const random = randomSource(seed, 't1-noise')
  const stored = new Uint16Array(intensity.length)
  forEachPosition(geometry.dims, headFromVoxel, (i, x, y, z) => {
    // A gentle receive-coil bias (about ±10 %), as real T1 images have.
    const bias = 1 + 0.08 * (x / 100) - 0.06 * (y / 100) + 0.05 * (z / 100)
    const value = T1_SCALE * intensity[i]! * bias
    stored[i] = Math.min(4095, Math.round(Math.hypot(value + noiseSigma * random.normal(), noiseSigma * random.normal())))
  }, signal)
  return { stored, noiseSigma }
}
