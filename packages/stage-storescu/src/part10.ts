// Where a Part 10 file's data set starts and which transfer syntax it is in, from its meta group alone.
import { PacsflowError } from '@pacsflow/core'
import { isLongVr } from '@pacsflow/imaging'

/** What the file meta information (group 0002, PS3.10 7.1) says about the data set after it. */
export interface Part10Meta {
  readonly transferSyntaxUid: string
  readonly sopClassUid: string | undefined
  readonly sopInstanceUid: string | undefined
  /** Byte offset of the data set: everything from here to the end is sent as it is. */
  readonly datasetOffset: number
}


function invalid(path: string, reason: string): PacsflowError {
  return new PacsflowError('DICOM_INVALID', `${path} ${reason}`, { details: { path } })
}

function uidAt(bytes: Uint8Array, start: number, length: number): string {
  // UIDs are padded to even length with a NUL (PS3.5 9.1); some writers pad with a space.
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1').replace(/[\0 ]+$/, '')
}

/**
 * Reads the meta group of a Part 10 file from its first bytes (always Explicit VR Little
 * Endian, PS3.10 7.1) and returns where the data set starts. Throws DICOM_INVALID when there is
 * no `DICM` at byte 128, no transfer syntax, or the meta group runs past `bytes` (meta groups
 * are a few hundred bytes; 64 KiB is plenty).
 */
export function parsePart10Meta(bytes: Uint8Array, path: string): Part10Meta {
  if (bytes.length < 132 || Buffer.from(bytes.buffer, bytes.byteOffset + 128, 4).toString('latin1') !== 'DICM') {
    throw invalid(path, "has no 'DICM' at byte 128: not a DICOM Part 10 file")
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 132
  let transferSyntaxUid: string | undefined
  let sopClassUid: string | undefined
  let sopInstanceUid: string | undefined
  while (at + 8 <= bytes.length && view.getUint16(at, true) === 0x0002) {
    const element = view.getUint16(at + 2, true)
    const vr = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5))
    let length: number
    let valueAt: number
    if (isLongVr(vr)) {
      if (at + 12 > bytes.length) break
      length = view.getUint32(at + 8, true)
      valueAt = at + 12
    } else {
      length = view.getUint16(at + 6, true)
      valueAt = at + 8
    }
    if (length === 0xffffffff || valueAt + length > bytes.length) throw invalid(path, 'has a meta group element that runs past its end')
    if (element === 0x0010) transferSyntaxUid = uidAt(bytes, valueAt, length)
    else if (element === 0x0002) sopClassUid = uidAt(bytes, valueAt, length)
    else if (element === 0x0003) sopInstanceUid = uidAt(bytes, valueAt, length)
    at = valueAt + length
  }
  if (at + 8 > bytes.length) throw invalid(path, 'ends inside its meta group (or the meta group is longer than 64 KiB)')
  if (transferSyntaxUid === undefined || transferSyntaxUid === '') throw invalid(path, 'has no transfer syntax in its meta group')
  return { transferSyntaxUid, sopClassUid, sopInstanceUid, datasetOffset: at }
}
