// Where each instance goes in the output folder: names that cannot escape it, whatever the headers say.
import { join } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { isValidUid, type DicomInstance } from '@pacsflow/imaging'
import type { FolderLayout } from './types.js'

/**
 * A PatientID as a folder name: letters, digits, '.', '_' and '-' kept, anything else (slashes,
 * spaces, control characters) becomes '_'; '', '.' and '..' become 'UNKNOWN'; at most 64 characters
 * (PatientID is LO, 64 characters, PS3.5 6.2).
 */
export function folderName(patientId: string | undefined): string {
  const cleaned = (patientId ?? '').trim().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)
  return cleaned === '' || /^\.+$/.test(cleaned) ? 'UNKNOWN' : cleaned
}

function checkedUid(instance: DicomInstance, field: 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'): string {
  const uid = instance[field]
  // A UID is digits and single dots (PS3.5 9.1): never a path like '../x'.
  if (!isValidUid(uid)) {
    throw new PacsflowError('UID_INVALID', `${instance.path}: ${field} ${JSON.stringify(uid)} is not a DICOM UID; it is not used as a file name`, {
      details: { path: instance.path, field, uid },
    })
  }
  return uid
}

/** The output path of an instance, relative to the output folder. Throws UID_INVALID for a UID that is not one. */
export function relativePath(instance: DicomInstance, layout: FolderLayout): string {
  const file = `${checkedUid(instance, 'sopInstanceUid')}.dcm`
  if (layout === 'flat') return file
  return join(folderName(instance.patientId), checkedUid(instance, 'studyInstanceUid'), checkedUid(instance, 'seriesInstanceUid'), file)
}
