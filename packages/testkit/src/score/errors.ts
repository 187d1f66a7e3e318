// The error codes of @pacsflow/testkit's scorer, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'

declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** The estimate is not on the truth's grid (other dims, or an affine more than 0.01 mm away). */
    QSM_SCORE_GRID: 'the estimate is not on the truth grid'
    /** The truth folder is incomplete, the estimate is not one 3D volume, or it has no finite value where it must. */
    QSM_SCORE_INPUT: 'the estimate or the truth cannot be scored'
  }
}

/** Every code the scorer raises. */
export type ScoreErrorCode = Extract<PacsflowErrorCode, `QSM_SCORE_${string}`>
