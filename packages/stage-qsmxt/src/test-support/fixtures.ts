// Test helpers: temp folders, a stage context, synthetic GRE echoes as NIfTI, and the shared real DICOM exam.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger, type Logger, type StageContext } from '@pacsflow/core'
import { groupStudies, indexDicom, qsmRoles, selectSeries, writeNifti, type Mat4, type QsmDicomInput, type QsmNiftiInput } from '@pacsflow/imaging'
import { copyTestSeries } from '@pacsflow/testkit'

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pacsflow-qsmxt-${prefix}-`))
}

export function removeDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
}

/** A logger that keeps every record (message and fields). */
export function capturingLogger(records: { level: string; msg?: string; fields: Record<string, unknown> }[] = []): Logger & { records: typeof records } {
  const at = (level: string) => (objOrMsg: object | string, msg?: string) =>
    records.push(typeof objOrMsg === 'string' ? { level, msg: objOrMsg, fields: {} } : { level, ...(msg === undefined ? {} : { msg }), fields: objOrMsg as Record<string, unknown> })
  const logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger, records }
  return logger
}

/** A stage context for calling `stage.run` directly. */
export function stageContext(workDir: string, overrides: Partial<StageContext> = {}): StageContext {
  return {
    jobId: 'job-1',
    stage: 'qsmxt',
    attempt: 1,
    signal: new AbortController().signal,
    workDir,
    log: silentLogger,
    slots: { gpu: [0] },
    progress: () => {},
    ...overrides,
  }
}

export const GRE_AFFINE: Mat4 = [
  [2, 0, 0, -16],
  [0, 2, 0, -16],
  [0, 0, 2, -12],
  [0, 0, 0, 1],
]

/** Writes a small multi-echo GRE (magnitude and phase per echo) and returns the NIfTI input describing it. */
export async function syntheticEchoes(dir: string, options: { echoes?: number; dims?: [number, number, number]; phaseDims?: [number, number, number] } = {}): Promise<QsmNiftiInput> {
  const dims = options.dims ?? [16, 16, 12]
  const count = options.echoes ?? 2
  const echoes = []
  for (let e = 1; e <= count; e++) {
    const magnitude = join(dir, `mag-e${e}.nii`)
    const phase = join(dir, `phase-e${e}.nii.gz`)
    const size = (d: readonly number[]) => d[0]! * d[1]! * d[2]!
    const mag = new Float32Array(size(dims)).map((_, i) => 100 + (i % 7))
    const phaseDims = e === count && options.phaseDims !== undefined ? options.phaseDims : dims
    const ph = new Float32Array(size(phaseDims)).map((_, i) => Math.sin(i / 10) * Math.PI)
    await writeNifti(magnitude, { data: mag, dims, affine: GRE_AFFINE })
    await writeNifti(phase, { data: ph, dims: phaseDims, affine: GRE_AFFINE })
    echoes.push({ magnitude, phase, echoTimeMs: 4 * e })
  }
  return { echoes, fieldStrengthT: 3 }
}

/**
 * A QSM DICOM input from the shared real data: the Philips two-echo GRE (magnitude and phase per echo)
 * with the Siemens XA30 3D T1 as target (two sessions of different people: fine for stand-in tools,
 * whose registration is whatever STANDIN_TRANSFORM says).
 */
export async function realExam(dir: string): Promise<QsmDicomInput> {
  copyTestSeries('dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping', join(dir, 'gre'))
  copyTestSeries('dcm_qa_xa30i/5001_anat-T1w_acq-tfl', join(dir, 't1'))
  const { instances } = await indexDicom(dir)
  const studies = groupStudies(instances)
  const study = { ...studies[0]!, series: studies.flatMap((s) => s.series) }
  const { magnitude, phase, t1 } = selectSeries(study, qsmRoles)
  return { magnitude, phase, t1 }
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
