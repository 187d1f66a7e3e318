// Series selection as a pipeline stage: a study in, one series per role out.
import { defineStage, type Stage } from '@pacsflow/core'
import type { DicomStudy } from '../series/types.js'
import { selectSeries, type Selection, type SelectionRoles } from './select.js'

export interface SelectStageOptions {
  /** Stage name (default `'select'`). */
  readonly name?: string
}

/**
 * The stage that picks a pipeline's series: `pipeline(selectStage(qsmRoles)).pipe(qsmNative())`.
 * A missing or ambiguous role fails the job with `SELECTION_MISSING` / `SELECTION_AMBIGUOUS`,
 * whose details list every candidate and why it was rejected; no retry can change that.
 */
export function selectStage<R extends SelectionRoles>(roles: R, options: SelectStageOptions = {}): Stage<DicomStudy, Selection<R>> {
  return defineStage<DicomStudy, Selection<R>>({
    name: options.name ?? 'select',
    run: async (study) => selectSeries(study, roles),
  })
}
