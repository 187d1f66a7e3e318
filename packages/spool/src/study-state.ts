// The per-study bookkeeping file: the last generation handed on, which must outlive every other trace of a study.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '@pacsflow/core'
import { isErrno } from './fs-util.js'
import type { SpoolLayout } from './layout.js'

/**
 * `state/<StudyUID>.json`. The files on disk are the truth about instances (the study tree) and
 * deliveries (a snapshot in `jobs/` is a generation handed on and not yet settled). This file
 * keeps the one thing that disappears with `retention: 'delete'`: how many generations were
 * handed on, so that instances arriving after the study was settled go out under a new delivery
 * id (`.g2`) rather than one the runner already finished.
 */
export interface StudyState {
  readonly studyInstanceUid: string
  /** The highest generation handed on (0: never). */
  readonly generation: number
  /** When it was handed on (ISO 8601), for people. */
  readonly handedOnAt?: string
  /** The last settlement, for people. */
  readonly settled?: { readonly generation: number; readonly outcome: 'acked' | 'rejected' | 'late-refused' | 'late-ignored'; readonly at: string }
}

export async function readStudyState(layout: SpoolLayout, studyInstanceUid: string): Promise<StudyState> {
  try {
    const parsed = JSON.parse(await readFile(layout.stateFile(studyInstanceUid), 'utf8')) as Partial<StudyState>
    const generation = Number.isInteger(parsed.generation) && (parsed.generation ?? 0) > 0 ? parsed.generation! : 0
    return { ...parsed, studyInstanceUid, generation }
  } catch (error) {
    // Missing: a new study. Unreadable (a torn write cannot happen with writeFileAtomic, but a person
    // may have edited it): start from 0; the scan of jobs/, done/ and failed/ raises it again.
    if (isErrno(error, 'ENOENT') || error instanceof SyntaxError) return { studyInstanceUid, generation: 0 }
    throw error
  }
}

export async function writeStudyState(layout: SpoolLayout, state: StudyState): Promise<void> {
  await writeFileAtomic(layout.stateFile(state.studyInstanceUid), `${JSON.stringify(state, null, 1)}\n`)
}
