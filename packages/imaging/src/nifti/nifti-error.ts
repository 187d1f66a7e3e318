// One constructor for this module's errors, so each names its file in the message and in details.path.
import { PacsflowError } from '@pacsflow/core'
import type { PacsflowErrorCode } from '@pacsflow/core'

/** `path` is undefined only for in-memory encoding, where there is no file to name. */
export function niftiError(
  code: PacsflowErrorCode,
  path: string | undefined,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
  cause?: unknown,
): PacsflowError {
  return new PacsflowError(code, path === undefined ? message : `${path}: ${message}`, {
    details: path === undefined ? details : { path, ...details },
    ...(cause === undefined ? {} : { cause }),
  })
}
