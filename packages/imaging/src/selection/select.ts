// Picks the series a pipeline needs (e.g. GRE magnitude and phase, T1) by explicit criteria, never "last match wins".
import { PacsflowError } from '@pacsflow/core'
import type { ComplexComponent } from '../dicom/types.js'
import { nearlyEqual } from '../geometry/matrix.js'
import type { DicomSeries, DicomStudy, DicomVolume, Plane } from '../series/types.js'

/** A regular expression, or its source as a string (matched case-insensitively). */
export type TextPattern = RegExp | string

/** How to choose among several series that fit a role; applied in order until one remains. */
export type TieBreak = 'most-echoes' | 'most-slices' | 'finest-voxels' | 'latest' | 'earliest'

/** What a series must be to fill a role. Every given criterion must hold. */
export interface RoleCriteria {
  /** SeriesDescription or ProtocolName matches one of these. */
  readonly description?: TextPattern | readonly TextPattern[]
  /** Neither SeriesDescription nor ProtocolName matches any of these. */
  readonly excludeDescription?: TextPattern | readonly TextPattern[]
  /** Every value appears in the series' ImageType. */
  readonly imageTypeIncludes?: readonly string[]
  /** No value appears in the series' ImageType (e.g. `DERIVED`). */
  readonly imageTypeExcludes?: readonly string[]
  /** The role takes the series' volumes of this component (magnitude, phase...). */
  readonly component?: ComplexComponent
  readonly minEchoes?: number
  readonly maxEchoes?: number
  /** MRAcquisitionType. */
  readonly acquisition?: '2D' | '3D'
  readonly planes?: readonly Plane[]
  readonly minSlices?: number
  /** Modality (default 'MR'). */
  readonly modality?: string
  /** Same echoes (numbers and times) and the same grid as the series chosen for that role. */
  readonly matches?: string
  /** A missing optional role is `undefined` instead of an error. */
  readonly optional?: boolean
  /** How to decide between several fitting series; without one, several is `SELECTION_AMBIGUOUS`. */
  readonly tieBreak?: readonly TieBreak[]
}

export type SelectionRoles = Readonly<Record<string, RoleCriteria>>

/** The series chosen for a role and its volumes for that role, ordered by echo. */
export interface SelectedSeries {
  readonly role: string
  readonly series: DicomSeries
  readonly volumes: readonly DicomVolume[]
}

export type Selection<R extends SelectionRoles> = {
  readonly [K in keyof R]: R[K] extends { readonly optional: true } ? SelectedSeries | undefined : SelectedSeries
}

/** A series considered for a role, as error details list it. */
export interface Candidate {
  readonly seriesInstanceUid: string
  readonly seriesNumber?: number
  readonly description?: string
  readonly echoes: number
  readonly components: readonly ComplexComponent[]
  /** Why it does not fit (absent for series that fit). */
  readonly rejected?: string
}

const T1_NAMES = ['t1', 'mprage', 'mp-rage', 'mp2rage', 'tfl', 'spgr', 'bravo', 'tfe', 'ffe3d']

/**
 * The default roles of a QSM pipeline. Magnitude and phase are found by ImageType (complex
 * component) and echo structure — the phase must have the magnitude's echoes and grid — not by
 * name; names only tell the T1 and the FGATIR apart.
 */
export const qsmRoles = {
  magnitude: {
    component: 'magnitude',
    minEchoes: 1,
    imageTypeExcludes: ['DERIVED'],
    planes: ['axial', 'sagittal', 'coronal'],
    tieBreak: ['most-echoes', 'finest-voxels', 'latest'],
  },
  phase: { component: 'phase', matches: 'magnitude', imageTypeExcludes: ['DERIVED'], tieBreak: ['latest'] },
  t1: {
    description: T1_NAMES,
    excludeDescription: ['fgatir', 'field.?map', 'localizer', 'scout'],
    component: 'magnitude',
    acquisition: '3D',
    imageTypeExcludes: ['DERIVED'],
    minSlices: 32,
    tieBreak: ['finest-voxels', 'latest'],
  },
  fgatir: {
    description: ['fgatir'],
    component: 'magnitude',
    imageTypeExcludes: ['DERIVED'],
    optional: true,
    tieBreak: ['finest-voxels', 'latest'],
  },
} as const satisfies SelectionRoles

/**
 * Chooses one series per role. A required role that no series fits is `SELECTION_MISSING`; a
 * role that several fit after its tie-breaks is `SELECTION_AMBIGUOUS`. Both list every
 * candidate (with why it was rejected) in `details.candidates`.
 */
export function selectSeries<R extends SelectionRoles>(study: DicomStudy, roles: R): Selection<R> {
  const chosen: Record<string, SelectedSeries | undefined> = {}
  for (const role of roleOrder(roles)) {
    const criteria = roles[role]!
    const reference = criteria.matches === undefined ? undefined : chosen[criteria.matches]
    const candidates = study.series.map((series) => ({ series, rejected: reject(series, criteria, reference) }))
    let fitting = candidates.filter((candidate) => candidate.rejected === undefined).map((candidate) => candidate.series)
    for (const rule of criteria.tieBreak ?? []) fitting = best(fitting, rule, criteria)
    const listed = candidates.map(({ series, rejected }) => describe(series, rejected))
    if (fitting.length === 0) {
      if (criteria.optional === true) {
        chosen[role] = undefined
        continue
      }
      throw new PacsflowError('SELECTION_MISSING', `no series fits the role '${role}' in study ${study.studyInstanceUid}`, {
        details: { role, studyInstanceUid: study.studyInstanceUid, candidates: listed },
      })
    }
    if (fitting.length > 1) {
      const names = fitting.map((series) => `#${series.seriesNumber ?? '?'} ${series.seriesDescription ?? ''}`.trim())
      throw new PacsflowError(
        'SELECTION_AMBIGUOUS',
        `${fitting.length} series fit the role '${role}' equally (${names.join('; ')}): add criteria or a tieBreak`,
        { details: { role, studyInstanceUid: study.studyInstanceUid, candidates: fitting.map((series) => describe(series, undefined)) } },
      )
    }
    const series = fitting[0]!
    chosen[role] = { role, series, volumes: roleVolumes(series, criteria) }
  }
  return chosen as Selection<R>
}

/** Roles in an order where a role comes after the one it `matches`. */
function roleOrder(roles: SelectionRoles): string[] {
  const order: string[] = []
  const visit = (role: string, trail: readonly string[]): void => {
    if (order.includes(role)) return
    if (trail.includes(role)) throw new PacsflowError('INVALID_OPTIONS', `selection roles match in a circle: ${[...trail, role].join(' -> ')}`)
    const target = roles[role]?.matches
    if (target !== undefined) {
      if (roles[target] === undefined) throw new PacsflowError('INVALID_OPTIONS', `role '${role}' matches unknown role '${target}'`)
      visit(target, [...trail, role])
    }
    order.push(role)
  }
  for (const role of Object.keys(roles)) visit(role, [])
  return order
}

function roleVolumes(series: DicomSeries, criteria: RoleCriteria): DicomVolume[] {
  return series.volumes
    .filter((volume) => volume.timepoints === 1)
    .filter((volume) => criteria.component === undefined || volume.complexComponent === criteria.component ||
      (criteria.component === 'magnitude' && volume.complexComponent === undefined))
    .sort((a, b) => (a.echoNumber ?? 0) - (b.echoNumber ?? 0) || (a.echoTime ?? 0) - (b.echoTime ?? 0))
}

const patterns = (value: TextPattern | readonly TextPattern[] | undefined): RegExp[] =>
  (value === undefined ? [] : Array.isArray(value) ? value : [value]).map((p: TextPattern) =>
    typeof p === 'string' ? new RegExp(p, 'i') : p,
  )

/** Why `series` does not fit `criteria`, or undefined when it fits. */
function reject(series: DicomSeries, criteria: RoleCriteria, reference: SelectedSeries | undefined): string | undefined {
  const names = [series.seriesDescription ?? '', series.protocolName ?? '']
  const wanted = patterns(criteria.description)
  if (wanted.length > 0 && !wanted.some((p) => names.some((name) => p.test(name)))) return 'description does not match'
  const excluded = patterns(criteria.excludeDescription).find((p) => names.some((name) => p.test(name)))
  if (excluded !== undefined) return `description matches excluded ${excluded}`
  if ((series.modality ?? 'MR') !== (criteria.modality ?? 'MR')) return `modality ${series.modality}`
  const imageType = series.imageType.map((value) => value.toUpperCase())
  const missingType = criteria.imageTypeIncludes?.find((value) => !imageType.includes(value.toUpperCase()))
  if (missingType !== undefined) return `ImageType lacks ${missingType}`
  const badType = criteria.imageTypeExcludes?.find((value) => imageType.includes(value.toUpperCase()))
  if (badType !== undefined) return `ImageType has ${badType}`
  if (criteria.acquisition !== undefined && series.mrAcquisitionType !== criteria.acquisition) {
    return `acquisition ${series.mrAcquisitionType ?? 'unknown'}, not ${criteria.acquisition}`
  }
  const volumes = roleVolumes(series, criteria)
  if (volumes.length === 0) return criteria.component === undefined ? 'no 3D volume' : `no ${criteria.component} volume`
  const echoes = new Set(volumes.map((volume) => volume.echoNumber ?? volume.echoTime ?? 1)).size
  if (echoes !== volumes.length) return `${volumes.length} volumes for ${echoes} echoes`
  if (criteria.minEchoes !== undefined && echoes < criteria.minEchoes) return `${echoes} echoes, fewer than ${criteria.minEchoes}`
  if (criteria.maxEchoes !== undefined && echoes > criteria.maxEchoes) return `${echoes} echoes, more than ${criteria.maxEchoes}`
  const first = volumes[0]!
  if (criteria.planes !== undefined && !criteria.planes.includes(first.plane)) return `${first.plane} plane`
  if (criteria.minSlices !== undefined && first.slices < criteria.minSlices) return `${first.slices} slices, fewer than ${criteria.minSlices}`
  if (criteria.matches !== undefined) {
    if (reference === undefined) return `role '${criteria.matches}' was not found`
    return mismatch(volumes, reference.volumes)
  }
  return undefined
}

/** Why two sets of echo volumes are not the same acquisition, or undefined. */
function mismatch(volumes: readonly DicomVolume[], reference: readonly DicomVolume[]): string | undefined {
  const echoes = (list: readonly DicomVolume[]): string => list.map((v) => v.echoNumber ?? '?').join(',')
  if (echoes(volumes) !== echoes(reference)) return `echoes [${echoes(volumes)}], not [${echoes(reference)}]`
  for (let i = 0; i < volumes.length; i++) {
    const a = volumes[i]!
    const b = reference[i]!
    if (a.echoTime !== undefined && b.echoTime !== undefined && Math.abs(a.echoTime - b.echoTime) > 0.01) {
      return `echo ${i + 1} at TE ${a.echoTime} ms, not ${b.echoTime} ms`
    }
    if (a.rows !== b.rows || a.columns !== b.columns || a.slices !== b.slices || !nearlyEqual(a.affineLps, b.affineLps, 1e-3)) {
      return 'a different grid'
    }
  }
  return undefined
}

function best(series: readonly DicomSeries[], rule: TieBreak, criteria: RoleCriteria): DicomSeries[] {
  if (series.length < 2) return [...series]
  const score = (s: DicomSeries): number => {
    const volume = roleVolumes(s, criteria)[0]
    switch (rule) {
      case 'most-echoes':
        return roleVolumes(s, criteria).length
      case 'most-slices':
        return volume?.slices ?? 0
      case 'finest-voxels':
        return volume === undefined ? 0 : -(volume.pixelSpacing[0] * volume.pixelSpacing[1] * volume.sliceSpacing)
      case 'latest':
        return seriesTime(s)
      case 'earliest':
        return -seriesTime(s)
    }
  }
  const scores = series.map(score)
  const top = Math.max(...scores)
  return series.filter((_, index) => Math.abs(scores[index]! - top) < 1e-9)
}

/** Acquisition time (hhmmss.frac) then series number, as one sortable number. */
function seriesTime(series: DicomSeries): number {
  const time = Number.parseFloat(series.instances[0]?.acquisitionTime ?? '')
  return (Number.isFinite(time) ? time : 0) * 1e4 + (series.seriesNumber ?? 0)
}

function describe(series: DicomSeries, rejected: string | undefined): Candidate {
  return {
    seriesInstanceUid: series.seriesInstanceUid,
    ...(series.seriesNumber === undefined ? {} : { seriesNumber: series.seriesNumber }),
    ...(series.seriesDescription === undefined ? {} : { description: series.seriesDescription }),
    echoes: series.echoNumbers.length,
    components: series.components,
    ...(rejected === undefined ? {} : { rejected }),
  }
}
