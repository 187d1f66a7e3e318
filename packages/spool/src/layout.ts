// Where things live in a spool folder, and the names that tie a study, its generations and its deliveries together.
import { join } from 'node:path'

/**
 * The folders of a spool beside the study trees (`<dir>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm`).
 * None of these names is a DICOM UID (UIDs are digits and dots), so they never clash with a study.
 */
export const Folder = {
  /** Objects being written by a source before `commit`. */
  incoming: 'incoming',
  /** Files that are not usable DICOM, each with `<name>.reason.json`. */
  quarantine: 'quarantine',
  /** Acknowledged generations (`retention: 'keep'`): `done/<StudyUID>.g<N>/`. */
  done: 'done',
  /** Rejected generations, with `error.json`; late instances refused under `latePolicy: 'error'`. */
  failed: 'failed',
  /** The files of each generation handed on and not yet settled (hard links): `jobs/<StudyUID>.g<N>/`. */
  jobs: 'jobs',
  /** Per-study bookkeeping (`<StudyUID>.json`): the last generation handed on. */
  state: 'state',
  /** Trees being deleted: renamed here first so that a crash never leaves half a tree where it counts. */
  trash: 'trash',
} as const

/** The id of a study's generation, used as the delivery id, the snapshot's and done/failed folders' names. */
export function generationName(studyInstanceUid: string, generation: number): string {
  return `${studyInstanceUid}.g${generation}`
}

const GENERATION_NAME = /^((?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)\.g([1-9][0-9]{0,8})$/

/** The study and generation a `<StudyUID>.g<N>` name stands for, or undefined for any other name. */
export function parseGenerationName(name: string): { studyInstanceUid: string; generation: number } | undefined {
  const match = GENERATION_NAME.exec(name)
  if (match === null) return undefined
  return { studyInstanceUid: match[1]!, generation: Number(match[2]) }
}

/** File name of a stored instance: `<SOPUID>.dcm`, later versions `<SOPUID>.v2.dcm`, `.v3`... */
export function instanceFileName(sopInstanceUid: string, version: number): string {
  return version <= 1 ? `${sopInstanceUid}.dcm` : `${sopInstanceUid}.v${version}.dcm`
}

const INSTANCE_NAME = /^((?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*?)(?:\.v([2-9]|[1-9][0-9]+))?\.dcm$/

/** The SOP Instance UID and version of an instance file name, or undefined for any other name. */
export function parseInstanceFileName(name: string): { sopInstanceUid: string; version: number } | undefined {
  const match = INSTANCE_NAME.exec(name)
  if (match === null) return undefined
  return { sopInstanceUid: match[1]!, version: match[2] === undefined ? 1 : Number(match[2]) }
}

/** Paths inside one spool folder. */
export class SpoolLayout {
  constructor(readonly dir: string) {}

  folder(name: keyof typeof Folder): string {
    return join(this.dir, Folder[name])
  }

  study(studyInstanceUid: string): string {
    return join(this.dir, studyInstanceUid)
  }

  snapshot(studyInstanceUid: string, generation: number): string {
    return join(this.dir, Folder.jobs, generationName(studyInstanceUid, generation))
  }

  done(studyInstanceUid: string, generation: number): string {
    return join(this.dir, Folder.done, generationName(studyInstanceUid, generation))
  }

  failed(studyInstanceUid: string, generation: number): string {
    return join(this.dir, Folder.failed, generationName(studyInstanceUid, generation))
  }

  stateFile(studyInstanceUid: string): string {
    return join(this.dir, Folder.state, `${studyInstanceUid}.json`)
  }
}
