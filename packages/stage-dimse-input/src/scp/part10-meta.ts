// The DICOM File Meta Information written before a received data set (PS3.10 7.1), and this implementation's identity.
import { derivedUid, encodeFileMeta as encodeMeta, writeFileMeta as writeMeta, type FileMetaFields } from '@pacsflow/imaging'
import { version } from '../version.js'

/** Implementation Class UID and Version Name (PS3.7 D.3.3.2), in A-ASSOCIATE-AC and in every file's meta group. */
export const implementation = {
  classUid: derivedUid('pacsflow implementation', version),
  versionName: `PACSFLOW_${version}`.slice(0, 16),
} as const

export interface MetaFields {
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** The transfer syntax of the accepted presentation context: the data set's encoding. */
  readonly transferSyntaxUid: string
  /** The calling AE title: Source Application Entity Title (0002,0016). */
  readonly sourceAet: string
}

/**
 * Preamble (128 zero bytes), `DICM`, and group 0002 (PS3.10 Table 7.1-1): version 00\01, the
 * SOP class and instance of the C-STORE request, the transfer syntax of its presentation
 * context, our implementation, and the sender's AE title. The request's UIDs go in as they came:
 * the spool validates them before any is used as a path.
 */
export function encodeFileMeta(fields: MetaFields): Buffer {
  const meta = encodeMeta(metaOf(fields))
  return Buffer.from(meta.buffer, meta.byteOffset, meta.byteLength)
}

/** {@link encodeFileMeta} written at the start of `target` (RangeError when it does not fit); returns its length. */
export function writeFileMeta(target: Buffer, fields: MetaFields): number {
  return writeMeta(target, metaOf(fields))
}

function metaOf(fields: MetaFields): FileMetaFields {
  return {
    sopClassUid: fields.sopClassUid,
    sopInstanceUid: fields.sopInstanceUid,
    transferSyntaxUid: fields.transferSyntaxUid,
    implementationClassUid: implementation.classUid,
    implementationVersionName: implementation.versionName,
    sourceAet: fields.sourceAet,
  }
}
