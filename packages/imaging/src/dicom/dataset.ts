// readDicomDataset: a whole file as a raw dcmjs dataset, for stages that pass it through (private tags kept).
import { readFile } from 'node:fs/promises'
import { readPart10, type Part10Dataset } from './dcmjs.js'
import { asDicomError, dicomError } from './fail.js'
import { hasPart10Magic } from './parser.js'

/**
 * Reads the whole file at `path` (pixel data included) as a dcmjs dataset: `meta` (group 0002)
 * and `dict`, keyed by tag, private tags kept, ready for {@link writePart10}. Throws
 * DICOM_INVALID (not DICOM, unparsable) naming the file.
 */
export async function readDicomDataset(path: string): Promise<Part10Dataset> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw dicomError('DICOM_INVALID', path, `cannot be read: ${(error as Error).message}`, { cause: error })
  }
  if (!hasPart10Magic(bytes)) throw dicomError('DICOM_INVALID', path, "no 'DICM' at byte 128: not a DICOM Part 10 file")
  try {
    return readPart10(bytes)
  } catch (error) {
    throw asDicomError(path, error)
  }
}
