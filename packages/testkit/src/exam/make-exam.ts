// makeExam: the synthetic QSM exam (multi-echo GRE magnitude and phase, T1) as Siemens-style DICOM, with its ground truth.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { derivedUid, type Mat4 } from '@pacsflow/imaging'
import { echoElements, greElements, GRE_DESCRIPTION, t1Elements, T1_DESCRIPTION, type ExamIdentity } from './attributes.js'
import { writeSeries, type SeriesVolume } from './dicom-series.js'
import { AXIAL, niftiGeometry, rotate, rotationXYZ, SAGITTAL, type AcquisitionGrid, type NiftiGeometry, type Vec3 } from './grid.js'
import { resolveExamOptions, T1_FIELD_OF_VIEW_MM, type ExamOptions, type ResolvedExam } from './options.js'
import { echoTimesMs, simulateGre, simulateT1, t1HeadPose } from './simulate.js'
import { truthParameters } from './truth-json.js'
import { truthFiles, writeTruth, type TruthFiles } from './truth.js'

/** Where the head's centre is in the scanner (LPS mm): off isocentre, as a real head is. */
export const HEAD_CENTRE_LPS: Vec3 = [2, 20, 35]

/** One written DICOM series. */
export interface ExamSeries {
  readonly dir: string
  readonly seriesInstanceUid: string
  readonly seriesNumber: number
  readonly description: string
  readonly files: number
}

/** What `makeExam` wrote, and the parameters it used (the same as truth.json's `parameters`). */
export interface ExamManifest {
  readonly outDir: string
  /** Holds one folder per series. */
  readonly dicomDir: string
  readonly series: { readonly magnitude: ExamSeries; readonly phase: ExamSeries; readonly t1?: ExamSeries }
  readonly truth: TruthFiles
  readonly studyInstanceUid: string
  readonly frameOfReferenceUid: string
  readonly echoTimesMs: readonly number[]
  readonly parameters: ResolvedExam
}

const IMPLEMENTATION_CLASS_UID = derivedUid('pacsflow-testkit', 'implementation-class')
const IMPLEMENTATION_VERSION = 'PACSFLOW_TK_01'

/** The GRE slab: axial, tilted by `obliqueDegrees` about LR then AP, centred on the head. */
export function greGrid(exam: ResolvedExam): AcquisitionGrid {
  return {
    dims: exam.dims,
    voxelMm: [exam.voxelMm, exam.voxelMm, exam.voxelMm],
    axes: rotate(rotationXYZ(exam.obliqueDegrees, exam.obliqueDegrees), AXIAL),
    centreLps: HEAD_CENTRE_LPS,
  }
}

/** The T1's grid: sagittal (or axial) at its own voxel size, planned on the head centre. */
export function t1Grid(exam: ResolvedExam): AcquisitionGrid | undefined {
  if (exam.t1 === null) return undefined
  const v = exam.t1.voxelMm
  const [lr, ap, si] = T1_FIELD_OF_VIEW_MM.map((mm) => Math.round(mm / v))
  return {
    dims: exam.t1.plane === 'sagittal' ? [ap!, si!, lr!] : [lr!, ap!, si!],
    voxelMm: [v, v, v],
    axes: exam.t1.plane === 'sagittal' ? SAGITTAL : AXIAL,
    centreLps: HEAD_CENTRE_LPS,
  }
}

function identityFor(exam: ResolvedExam): { id: ExamIdentity; uid: (...parts: string[]) => string } {
  // The UIDs follow the seed and every parameter: a different exam never reuses an instance UID.
  const digest = createHash('sha256').update(JSON.stringify(exam)).digest('hex')
  const uid = (...parts: string[]): string => derivedUid('pacsflow-testkit-exam', digest, ...parts)
  return {
    uid,
    id: {
      studyInstanceUid: uid('study'),
      frameOfReferenceUid: uid('frame-of-reference'),
      patientId: `PFQSM${String(exam.seed).padStart(4, '0')}`,
      accessionNumber: `PF${digest.slice(0, 10).toUpperCase()}`,
    },
  }
}

/** An empty folder, or one holding an earlier exam (whose `dicom` and `truth` are replaced). */
async function prepareOutDir(outDir: string): Promise<void> {
  if (!existsSync(outDir)) return
  const entries = readdirSync(outDir)
  if (entries.length === 0) return
  if (!existsSync(join(outDir, 'truth', 'truth.json'))) {
    throw new PacsflowError('INVALID_OPTIONS', `makeExam: ${outDir} is not empty and holds no earlier exam; give an empty or new folder`)
  }
  await rm(join(outDir, 'dicom'), { recursive: true, force: true })
  await rm(join(outDir, 'truth'), { recursive: true, force: true })
}

/**
 * Makes the exam in `outDir`: `dicom/` with the T1 (series 2), GRE magnitude (3) and phase (4),
 * and `truth/` with chi, mask, labels, local and total field on the GRE grid and truth.json.
 * The same options (seed included) give byte-identical files.
 */
export async function makeExam(outDir: string, options: ExamOptions = {}): Promise<ExamManifest> {
  const exam = resolveExamOptions(options)
  const signal = options.signal
  const root = resolve(outDir)
  await prepareOutDir(root)
  const { id, uid } = identityFor(exam)
  const worldFromHead: Mat4 = [
    [1, 0, 0, HEAD_CENTRE_LPS[0]],
    [0, 1, 0, HEAD_CENTRE_LPS[1]],
    [0, 0, 1, HEAD_CENTRE_LPS[2]],
    [0, 0, 0, 1],
  ]
  const grid = greGrid(exam)
  const geometry = niftiGeometry(grid)
  const gre = simulateGre(exam, geometry, worldFromHead, signal)
  const dicomDir = join(root, 'dicom')
  const common = { implementationClassUid: IMPLEMENTATION_CLASS_UID, implementationVersionName: IMPLEMENTATION_VERSION, ...(signal === undefined ? {} : { signal }) }
  const tes = echoTimesMs(exam)
  const greSeries = async (component: 'magnitude' | 'phase', number: number): Promise<ExamSeries> => {
    const seriesUid = uid('series', component)
    const description = GRE_DESCRIPTION(exam.echoes)
    const dir = join(dicomDir, `${String(number).padStart(2, '0')}_${description}${component === 'phase' ? '_phase' : ''}`)
    const volumes: SeriesVolume[] = tes.map((te, e) => ({
      stored: (component === 'magnitude' ? gre.magnitude : gre.phase)[e]!,
      elements: echoElements(te, e + 1),
      prefix: `E${e + 1}_`,
    }))
    const files = await writeSeries({
      dir, grid, geometry, volumes, ...common,
      shared: greElements(exam, id, component, seriesUid, number),
      instanceUid: (index) => uid('instance', component, String(index)),
    })
    return { dir, seriesInstanceUid: seriesUid, seriesNumber: number, description, files: files.length }
  }
  const magnitude = await greSeries('magnitude', 3)
  const phase = await greSeries('phase', 4)
  const t1 = await writeT1(exam, id, uid, worldFromHead, dicomDir, common)
  const truth = truthFiles(join(root, 'truth'))
  const series = { magnitude, phase, ...(t1 === undefined ? {} : { t1: t1.series }) }
  const parameters = truthParameters({ exam, grid, geometry, gre, id, series, t1: t1?.record, headCentreLps: HEAD_CENTRE_LPS })
  await writeTruth(truth, geometry.dims, geometry.affine, gre, parameters)
  return { outDir: root, dicomDir, series, truth, studyInstanceUid: id.studyInstanceUid, frameOfReferenceUid: id.frameOfReferenceUid, echoTimesMs: tes, parameters: exam }
}

/** What truth.json records about the T1. */
export interface T1Record {
  readonly grid: AcquisitionGrid
  readonly geometry: NiftiGeometry
  /** GRE-world to T1-world: where a point of the head in the GRE is in the T1. */
  readonly motion: Mat4
  readonly noiseSigma: number
}

async function writeT1(
  exam: ResolvedExam,
  id: ExamIdentity,
  uid: (...parts: string[]) => string,
  worldFromHead: Mat4,
  dicomDir: string,
  common: { implementationClassUid: string; implementationVersionName: string; signal?: AbortSignal },
): Promise<{ series: ExamSeries; record: T1Record } | undefined> {
  const grid = t1Grid(exam)
  if (grid === undefined || exam.t1 === null) return undefined
  const geometry = niftiGeometry(grid)
  const [rx, ry, rz] = exam.t1.rotationDegrees
  const pose = t1HeadPose(worldFromHead, exam.t1, rotationXYZ(rx, ry, rz))
  const { stored, noiseSigma } = simulateT1(geometry, pose.worldFromHead, exam.t1, exam.seed, common.signal)
  const number = 2
  const description = T1_DESCRIPTION(exam.t1.plane)
  const seriesUid = uid('series', 't1')
  const dir = join(dicomDir, `${String(number).padStart(2, '0')}_${description}`)
  const files = await writeSeries({
    dir, grid, geometry, ...common,
    volumes: [{ stored, elements: [], prefix: '' }],
    shared: t1Elements(exam, id, seriesUid, number, [grid.dims[0], grid.dims[1]]),
    instanceUid: (index) => uid('instance', 't1', String(index)),
  })
  return {
    series: { dir, seriesInstanceUid: seriesUid, seriesNumber: number, description, files: files.length },
    record: { grid, geometry, motion: pose.motion, noiseSigma },
  }
}
