// The error code a call throws, for tests that check many refusals in a row.
import { isPacsflowError } from '@pacsflow/core'

/** 'INVALID_OPTIONS' when `run` throws that PacsflowError, the error as text for anything else thrown, undefined when it returns. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return isPacsflowError(error, 'INVALID_OPTIONS') ? 'INVALID_OPTIONS' : String(error)
  }
  return undefined
}
