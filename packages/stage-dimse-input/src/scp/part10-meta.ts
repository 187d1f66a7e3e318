// The DICOM File Meta Information written before a received data set (PS3.10 7.1), and this implementation's identity.
import { derivedUid } from '@pacsflow/imaging'
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

function element(tag: number, vr: string, value: Buffer): Buffer {
  // Explicit VR Little Endian (PS3.10 7.1). OB has two reserved bytes and a 32-bit length (PS3.5 7.1.2).
  const long = vr === 'OB'
  const header = Buffer.alloc(long ? 12 : 8)
  header.writeUInt16LE(tag >>> 16, 0)
  header.writeUInt16LE(tag & 0xffff, 2)
  header.write(vr, 4, 'latin1')
  if (long) header.writeUInt32LE(value.length, 8)
  else header.writeUInt16LE(value.length, 6)
  return Buffer.concat([header, value])
}

function padded(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value}${pad}`, 'latin1')
}

/**
 * Preamble (128 zero bytes), `DICM`, and group 0002 (PS3.10 Table 7.1-1): version 00\01, the
 * SOP class and instance of the C-STORE request, the transfer syntax of its presentation
 * context, our implementation, and the sender's AE title. The request's UIDs go in as they came:
 * the spool validates them before any is used as a path.
 */
export function encodeFileMeta(fields: MetaFields): Buffer {
  const body = Buffer.concat([
    element(0x00020001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x00020002, 'UI', padded(fields.sopClassUid, '\0')),
    element(0x00020003, 'UI', padded(fields.sopInstanceUid, '\0')),
    element(0x00020010, 'UI', padded(fields.transferSyntaxUid, '\0')),
    element(0x00020012, 'UI', padded(implementation.classUid, '\0')),
    element(0x00020013, 'SH', padded(implementation.versionName, ' ')),
    element(0x00020016, 'AE', padded(fields.sourceAet.slice(0, 16), ' ')),
  ])
  const groupLength = Buffer.alloc(4)
  groupLength.writeUInt32LE(body.length, 0)
  const preamble = Buffer.alloc(132)
  preamble.write('DICM', 128, 'latin1')
  return Buffer.concat([preamble, element(0x00020000, 'UL', groupLength), body])
}
