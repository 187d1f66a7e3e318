// Writes .nii or .nii.gz (chosen by the file name) atomically, so readers never see half a file.
import { promisify } from 'node:util'
import { nodeZlib, writeFileAtomic } from '@pacsflow/core'
import { encode } from './encode.js'
import { niftiError } from './nifti-error.js'
import type { NiftiWriteInput } from './types.js'

/** How a file is written. */
export interface NiftiWriteOptions {
  /**
   * fsync the file and its folder, so it survives power loss, not only a crash (default true:
   * pipeline stages count on it). The file is always written to a temporary name and renamed.
   */
  readonly durable?: boolean
}

/** Writes a NIfTI-1 file: gzipped when `path` ends in `.nii.gz`, plain for `.nii` (any case). */
export async function writeNifti(path: string, input: NiftiWriteInput, options: NiftiWriteOptions = {}): Promise<void> {
  const lower = path.toLowerCase()
  const gzipped = lower.endsWith('.nii.gz')
  if (!gzipped && !lower.endsWith('.nii')) {
    throw niftiError('INVALID_OPTIONS', path, 'a NIfTI file name must end in .nii or .nii.gz')
  }
  const level = input.gzipLevel ?? 6
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw niftiError('INVALID_OPTIONS', path, `gzipLevel must be an integer from 0 to 9, got ${level}`)
  }
  const bytes = encode(input, path)
  // zlib runs on libuv's thread pool, so compressing a large volume does not block the event loop.
  await writeFileAtomic(path, gzipped ? await promisify(nodeZlib().gzip)(bytes, { level }) : bytes, { durable: options.durable ?? true })
}
