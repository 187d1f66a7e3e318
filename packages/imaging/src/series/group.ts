// Groups indexed instances into studies and series, each series into its volumes.
import { PacsflowError } from '@pacsflow/core'
import type { ComplexComponent, DicomInstance } from '../dicom/types.js'
import type { DicomSeries, DicomStudy } from './types.js'
import { groupBy } from './group-by.js'
import { buildVolumes, type VolumeTolerances } from './volumes.js'
import { compareText } from './compare.js'

/** Studies (by StudyInstanceUID) with their series (by SeriesInstanceUID), ordered by date and series number. */
export function groupStudies(instances: readonly DicomInstance[], tolerances: VolumeTolerances = {}): DicomStudy[] {
  return [...groupBy(instances, (instance) => instance.studyInstanceUid).values()]
    .map((members) => makeStudy(members, tolerances))
    .sort((a, b) => compareText(`${a.studyDate ?? ''}${a.studyTime ?? ''}`, `${b.studyDate ?? ''}${b.studyTime ?? ''}`))
}

/** The one study the instances belong to; throws `SERIES_INCONSISTENT` when they span several. */
export function groupStudy(instances: readonly DicomInstance[], tolerances: VolumeTolerances = {}): DicomStudy {
  const studies = groupStudies(instances, tolerances)
  if (studies.length !== 1) {
    throw new PacsflowError('SERIES_INCONSISTENT', `expected the instances of one study, found ${studies.length}`, {
      details: { studies: studies.map((study) => study.studyInstanceUid) },
    })
  }
  return studies[0]!
}

function makeStudy(instances: readonly DicomInstance[], tolerances: VolumeTolerances): DicomStudy {
  const first = instances[0]!
  const series = [...groupBy(instances, (instance) => instance.seriesInstanceUid).values()]
    .map((members) => groupSeries(members, tolerances))
    .sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) || compareText(a.seriesInstanceUid, b.seriesInstanceUid))
  return {
    studyInstanceUid: first.studyInstanceUid,
    ...pick(first, ['patientId', 'patientName', 'patientBirthDate', 'patientSex', 'studyDate', 'studyTime', 'studyDescription', 'accessionNumber']),
    series,
  }
}

/** One series (all instances share a SeriesInstanceUID) with its volumes. */
export function groupSeries(instances: readonly DicomInstance[], tolerances: VolumeTolerances = {}): DicomSeries {
  const sorted = [...instances].sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0) || compareText(a.path, b.path))
  const first = sorted[0]!
  const { volumes, problems } = buildVolumes(sorted, tolerances)
  const echoNumbers = [...new Set(volumes.map((v) => v.echoNumber).filter((e): e is number => e !== undefined))].sort((a, b) => a - b)
  const components = [...new Set(volumes.map((v) => v.complexComponent).filter((c): c is ComplexComponent => c !== undefined))]
  return {
    seriesInstanceUid: first.seriesInstanceUid,
    studyInstanceUid: first.studyInstanceUid,
    ...pick(first, ['seriesNumber', 'seriesDescription', 'protocolName', 'sequenceName', 'modality', 'manufacturer', 'mrAcquisitionType', 'frameOfReferenceUid']),
    sopClassUid: first.sopClassUid,
    imageType: first.imageType,
    echoNumbers,
    components,
    volumes,
    problems,
    instances: sorted,
  }
}

/** The defined fields among `keys` (so optional fields stay absent rather than undefined). */
function pick<K extends keyof DicomInstance>(instance: DicomInstance, keys: readonly K[]): Partial<Pick<DicomInstance, K>> {
  const out: Partial<Pick<DicomInstance, K>> = {}
  for (const key of keys) if (instance[key] !== undefined) out[key] = instance[key]
  return out
}
