// Coded errors for one DICOM file: the message and `details.path` always name the file.
import { PacsflowError } from '@pacsflow/core'
import type { ImagingErrorCode } from '../errors.js'
import { MalformedError, TruncatedError } from './parser.js'

/** A PacsflowError about the file at `path`. */
export function dicomError(
  code: ImagingErrorCode,
  path: string,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): PacsflowError {
  return new PacsflowError(code, `${path}: ${message}`, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    details: { path, ...options.details },
  })
}

/** Any failure while reading `path` as a coded error (parser errors keep their meaning). */
export function asDicomError(path: string, error: unknown): PacsflowError {
  if (error instanceof PacsflowError) return error
  if (error instanceof TruncatedError) return dicomError('DICOM_TRUNCATED', path, error.message, { cause: error })
  if (error instanceof MalformedError) return dicomError('DICOM_INVALID', path, error.message, { cause: error })
  const message = error instanceof Error ? error.message : String(error)
  return dicomError('DICOM_INVALID', path, `cannot be read as DICOM: ${message}`, { cause: error })
}
