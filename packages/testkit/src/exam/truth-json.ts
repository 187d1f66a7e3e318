// The content of truth.json: every parameter of the exam, the labels with their susceptibility, the geometry.
import { nextFastSize, type Mat4 } from '@pacsflow/imaging'
import type { ExamIdentity } from './attributes.js'
import { b0DirectionInVoxels, matrixJson, slicePosition, voxelSpacing, type AcquisitionGrid, type NiftiGeometry, type Vec3 } from './grid.js'
import type { ResolvedExam } from './options.js'
import { phantomDescription } from './phantom.js'
import { echoTimesMs, GAMMA_MHZ_PER_T, RECEIVER_OFFSET, type GreSimulation } from './simulate.js'
import { TISSUE_RELATIVE_TO_AIR } from './tissues.js'
import { TRUTH_FILE_NAMES, truthLabels } from './truth.js'

interface SeriesSummary {
  readonly seriesInstanceUid: string
  readonly seriesNumber: number
  readonly description: string
  readonly files: number
  readonly dir: string
}

export interface TruthInput {
  readonly exam: ResolvedExam
  readonly grid: AcquisitionGrid
  readonly geometry: NiftiGeometry
  readonly gre: GreSimulation
  readonly id: ExamIdentity
  readonly series: Readonly<Record<string, SeriesSummary>>
  readonly t1: { grid: AcquisitionGrid; geometry: NiftiGeometry; motion: Mat4; noiseSigma: number } | undefined
  readonly headCentreLps: Vec3
}

const round = (v: number, digits = 9): number => Number(v.toFixed(digits))
const vec = (v: readonly number[]): number[] => v.map((x) => round(x))

function gridJson(grid: AcquisitionGrid, geometry: NiftiGeometry): Record<string, unknown> {
  return {
    nifti: { dims: geometry.dims, voxelMm: vec(voxelSpacing(geometry.affine)), affineRas: matrixJson(geometry.affine).map(vec) },
    dicom: {
      columnsRowsSlices: grid.dims,
      pixelSpacingMm: [grid.voxelMm[1], grid.voxelMm[0]],
      sliceSpacingMm: grid.voxelMm[2],
      imageOrientationPatient: vec([...grid.axes[0], ...grid.axes[1]]),
      sliceNormalLps: vec(grid.axes[2]),
      firstImagePositionPatient: vec(slicePosition(grid, 0)),
      centreLps: grid.centreLps,
    },
  }
}

/** How the signal and the fields were made. */
function physicsJson(input: TruthInput): Record<string, unknown> {
  const { exam, gre } = input
  const tes = echoTimesMs(exam)
  return {
    b0: {
      tesla: exam.b0Tesla,
      gammaMHzPerTesla: GAMMA_MHZ_PER_T,
      imagingFrequencyMHz: round(GAMMA_MHZ_PER_T * exam.b0Tesla, 6),
      directionLps: [0, 0, 1],
      directionVoxel: vec(b0DirectionInVoxels(input.geometry.affine)),
    },
    echoes: { count: exam.echoes, te1Ms: exam.te1Ms, dteMs: exam.dteMs, echoTimesMs: tes, repetitionTimeMs: Math.round(tes[tes.length - 1]! + 6), flipAngleDegrees: 15 },
    signal: {
      magnitude: 'S = s0 * PD * exp(-TE/T2*), averaged over 2x2x2 sub-voxels at tissue edges; complex Gaussian noise of sigma per channel; stored as round(|S + noise|), 12-bit',
      whiteMatterEcho1: exam.wmSignal,
      snr: exam.snr,
      noiseSigma: round(gre.noiseSigma),
      phase: 'phi(TE) = 2*pi*gamma*B0*TE*totalField_ppm*1e-6 + phi0, then the angle of S + noise in (-pi, pi]',
      phaseStorage: 'stored = round((phi + pi) / (2 pi) * 4096) mod 4096; RescaleSlope 2, RescaleIntercept -4096; radians = stored * 2 pi / 4096 - pi',
      receiverOffset: exam.receiverOffset ? RECEIVER_OFFSET : null,
    },
    forwardModel: {
      kernel: 'field = IFFT(D * FFT(chi)), D(k) = 1/3 - (k.b)^2/|k|^2, D(0) = 0, k in cycles/mm along the NIfTI voxel axes, b = b0.directionVoxel',
      padding: 'each axis zero-padded to nextFastSize(2n) (a circular convolution on the padded box)',
      paddedDims: input.geometry.dims.map((n) => nextFastSize(2 * n)),
      localField: 'the field of chi (brain labels only)',
      backgroundField: exam.backgroundField
        ? `the field of the tissue outside the brain relative to air: tissue ${TISSUE_RELATIVE_TO_AIR} ppm, skull ${TISSUE_RELATIVE_TO_AIR - 2} ppm, air (around the head, in the sinus, and the padding) 0, brain tissue ${TISSUE_RELATIVE_TO_AIR} ppm as the medium of its local sources; through the finite-difference dipole kernel D = 1/3 - b^T M b / trace M (M_ii = 4 sin^2(pi k_i h_i)/h_i^2, M_ij = sin(2 pi k_i h_i) sin(2 pi k_j h_j)/(h_i h_j), k in cycles/mm, h the voxel size in mm), which has no Nyquist ringing for an oblique B0`
        : null,
      totalField: 'localField + backgroundField',
    },
  }
}

function t1Json(input: TruthInput): Record<string, unknown> | null {
  const { exam, t1 } = input
  if (t1 === undefined || exam.t1 === null) return null
  return {
    ...gridJson(t1.grid, t1.geometry),
    misalignment: {
      rotationDegrees: exam.t1.rotationDegrees,
      translationMm: exam.t1.translationMm,
      about: 'the head centre, rotations about LPS x, y, z in that order, then the translation',
      greToT1WorldLps: matrixJson(t1.motion).map(vec),
    },
    noiseSigma: round(t1.noiseSigma),
  }
}

/** truth.json: what an engine author needs to know about the exam, and how each number was made. */
export function truthParameters(input: TruthInput): Record<string, unknown> {
  const { exam, gre } = input
  return {
    generator: '@pacsflow/testkit makeExam',
    parameters: exam,
    units: {
      chi: 'ppm (SI), relative to CSF (chi of CSF = 0)',
      fields: 'ppm of B0 (delta B / B0 * 1e6)',
      phase: 'radians',
      coordinates: 'mm; DICOM in patient LPS, NIfTI affines in RAS',
    },
    ...physicsJson(input),
    gre: { ...gridJson(input.grid, input.geometry), obliqueDegrees: exam.obliqueDegrees, obliqueAbout: 'LPS x then y' },
    t1: t1Json(input),
    headCentreLps: input.headCentreLps,
    phantom: phantomDescription(),
    labels: truthLabels(gre.labels),
    maskVoxels: gre.mask.reduce((sum, v) => sum + v, 0),
    edgeVoxelsSupersampled: gre.edgeVoxels,
    identity: { patientName: 'PHANTOM^QSM', ...input.id },
    series: Object.fromEntries(Object.entries(input.series).map(([role, s]) => [role, { seriesInstanceUid: s.seriesInstanceUid, seriesNumber: s.seriesNumber, description: s.description, files: s.files }])),
    files: TRUTH_FILE_NAMES,
  }
}
