// Checks a QSM input before any tool runs: echoes that pair up, grids that agree, a field strength.
import { existsSync } from 'node:fs'
import { PacsflowError } from '@pacsflow/core'
import { isQsmDicomInput, type DicomVolume, type QsmInput, type QsmNiftiInput, type SelectedSeries } from '@pacsflow/imaging'

/** One echo as the stage will convert it. */
export interface PlannedEcho {
  /** 1-based, in echo-time order. */
  readonly echo: number
  readonly echoTimeMs: number
  readonly magnitude: DicomVolume | string
  readonly phase: DicomVolume | string
}

export interface InputPlan {
  readonly kind: 'dicom' | 'nifti'
  readonly echoes: readonly PlannedEcho[]
  readonly fieldStrengthT: number
  readonly b0Direction?: readonly [number, number, number]
  readonly magnitude?: SelectedSeries
  readonly phase?: SelectedSeries
  readonly t1?: SelectedSeries
  readonly fgatir?: SelectedSeries
}

function inputError(message: string, details: Record<string, unknown> = {}): PacsflowError {
  return new PacsflowError('QSM_INPUT', `qsmxt: ${message}`, { details })
}

/** Validates the input and orders its echoes; throws `QSM_INPUT` with what is wrong. */
export function planInput(input: QsmInput): InputPlan {
  if (input === null || typeof input !== 'object') throw inputError('the input must be QSM DICOM series or NIfTI echoes')
  const targets = {
    ...(input.t1 === undefined ? {} : { t1: checkedTarget(input.t1, 't1') }),
    ...(input.fgatir === undefined ? {} : { fgatir: checkedTarget(input.fgatir, 'fgatir') }),
  }
  if (isQsmDicomInput(input)) return { kind: 'dicom', ...planDicom(input.magnitude, input.phase), magnitude: input.magnitude, phase: input.phase, ...targets }
  if (!Array.isArray((input as Partial<QsmNiftiInput>).echoes)) throw inputError('the input has neither magnitude/phase series nor NIfTI echoes', { keys: Object.keys(input) })
  return { kind: 'nifti', ...planNifti(input), ...targets }
}

function checkedTarget(target: SelectedSeries, role: string): SelectedSeries {
  if (target.series?.seriesInstanceUid === undefined || !Array.isArray(target.volumes) || target.volumes.length === 0) {
    throw inputError(`the ${role} target has no volume to align to`, { role })
  }
  return target
}

function planDicom(magnitude: SelectedSeries, phase: SelectedSeries): { echoes: PlannedEcho[]; fieldStrengthT: number } {
  for (const [role, selected] of [['magnitude', magnitude], ['phase', phase]] as const) {
    if (selected?.series === undefined || !Array.isArray(selected.volumes) || selected.volumes.length === 0) throw inputError(`the ${role} series has no volumes`, { role })
  }
  const byEcho = (volumes: readonly DicomVolume[]) => [...volumes].sort((a, b) => (a.echoTime ?? 0) - (b.echoTime ?? 0))
  const mags = byEcho(magnitude.volumes)
  const phases = byEcho(phase.volumes)
  const echoList = (volumes: readonly DicomVolume[]) => volumes.map((v) => v.echoNumber ?? v.echoTime)
  if (mags.length !== phases.length) {
    throw inputError(`missing echoes: the magnitude has ${mags.length} echoes and the phase ${phases.length}`, {
      magnitudeEchoes: echoList(mags),
      phaseEchoes: echoList(phases),
    })
  }
  const echoes = mags.map((mag, index): PlannedEcho => {
    const ph = phases[index]!
    if (mag.echoTime === undefined || !(mag.echoTime > 0)) throw inputError(`magnitude volume ${mag.id} has no echo time`, { volume: mag.id })
    if (ph.echoTime === undefined || Math.abs(ph.echoTime - mag.echoTime) > 0.01) {
      throw inputError(`missing echoes: magnitude echo at TE ${mag.echoTime} ms has no phase at the same TE (phase ${ph.id} has TE ${ph.echoTime ?? '?'} ms)`, {
        magnitudeEchoes: echoList(mags),
        phaseEchoes: echoList(phases),
      })
    }
    const mismatch = gridMismatch(mag, ph)
    if (mismatch !== undefined) throw inputError(`the magnitude and phase grids of echo ${index + 1} differ: ${mismatch}`, { magnitude: mag.id, phase: ph.id })
    if (index > 0) {
      const first = gridMismatch(mags[0]!, mag)
      if (first !== undefined) throw inputError(`echo ${index + 1} is not on echo 1's grid: ${first}`, { first: mags[0]!.id, echo: mag.id })
    }
    return { echo: index + 1, echoTimeMs: mag.echoTime, magnitude: mag, phase: ph }
  })
  const fieldStrengthT = magnitude.series.instances.find((instance) => instance.magneticFieldStrength !== undefined)?.magneticFieldStrength
  if (fieldStrengthT === undefined || !(fieldStrengthT > 0)) throw inputError('the magnitude series has no MagneticFieldStrength (0018,0087)', { series: magnitude.series.seriesInstanceUid })
  return { echoes, fieldStrengthT }
}

/** Why two volumes are not on one grid (matrix, spacing, voxel-to-patient affine within 1e-3 mm), or undefined. */
export function gridMismatch(a: DicomVolume, b: DicomVolume): string | undefined {
  if (a.rows !== b.rows || a.columns !== b.columns || a.slices !== b.slices) return `${a.columns}x${a.rows}x${a.slices} vs ${b.columns}x${b.rows}x${b.slices}`
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      if (Math.abs(a.affineLps[r]![c]! - b.affineLps[r]![c]!) > 1e-3) return `voxel-to-patient affines differ at [${r}][${c}] (${a.affineLps[r]![c]} vs ${b.affineLps[r]![c]})`
    }
  }
  return undefined
}

function planNifti(input: QsmNiftiInput): Omit<InputPlan, 'kind'> {
  if (input.echoes.length === 0) throw inputError('the NIfTI input has no echoes')
  if (typeof input.fieldStrengthT !== 'number' || !(input.fieldStrengthT > 0)) throw inputError(`fieldStrengthT must be > 0, got ${String(input.fieldStrengthT)}`)
  const echoes = [...input.echoes].sort((a, b) => a.echoTimeMs - b.echoTimeMs)
  echoes.forEach((echo, index) => {
    if (typeof echo.echoTimeMs !== 'number' || !(echo.echoTimeMs > 0)) throw inputError(`echo ${index + 1} has no valid echoTimeMs`, { echo: index + 1 })
    if (index > 0 && echo.echoTimeMs === echoes[index - 1]!.echoTimeMs) throw inputError(`two echoes have TE ${echo.echoTimeMs} ms`)
    for (const part of ['magnitude', 'phase'] as const) {
      const path = echo[part]
      if (typeof path !== 'string' || !/\.nii(\.gz)?$/i.test(path)) throw inputError(`echo ${index + 1} ${part} must be a .nii or .nii.gz path, got ${JSON.stringify(path)}`)
      if (!existsSync(path)) throw inputError(`missing echoes: echo ${index + 1} ${part} file ${path} does not exist`, { path })
    }
  })
  const b0 = input.b0Direction
  if (b0 !== undefined && (b0.length !== 3 || !b0.every(Number.isFinite) || Math.hypot(...b0) === 0)) throw inputError('b0Direction must be a non-zero 3-vector')
  return {
    echoes: echoes.map((echo, index) => ({ echo: index + 1, echoTimeMs: echo.echoTimeMs, magnitude: echo.magnitude, phase: echo.phase })),
    fieldStrengthT: input.fieldStrengthT,
    ...(b0 === undefined ? {} : { b0Direction: b0 }),
  }
}
