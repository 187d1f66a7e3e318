// DIMSE command sets read and written directly (Implicit VR Little Endian, PS3.7 6.3.1): the C-STORE hot path never touches dcmjs.
import { CommandField, NO_DATA_SET, PduType } from './constants.js'

/** The command elements of a C-STORE-RQ (PS3.7 Table 9.3-1), or of any other command by its field. */
export interface CommandSet {
  readonly commandField: number
  readonly messageId: number
  readonly hasDataSet: boolean
  readonly affectedSopClassUid?: string
  readonly affectedSopInstanceUid?: string
  readonly moveOriginatorAet?: string
  readonly moveOriginatorMessageId?: number
}

/** A command set we could not read: the association is aborted (PS3.8 9.3.5 leaves no other answer). */
export class CommandSetError extends Error {
  override readonly name = 'CommandSetError'
}

function text(bytes: Buffer): string {
  // UI values are NUL-padded, AE values space-padded (PS3.5 6.2).
  return bytes.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '')
}

function us(bytes: Buffer, element: number): number {
  if (bytes.length !== 2) throw new CommandSetError(`command element (0000,${element.toString(16).padStart(4, '0')}) has length ${bytes.length}, not 2`)
  return bytes.readUInt16LE(0)
}

/** Reads a command set: every element is group 0000, tag/length/value in Implicit VR Little Endian. */
export function parseCommandSet(bytes: Buffer): CommandSet {
  const values = new Map<number, Buffer>()
  let at = 0
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw new CommandSetError('the command set ends inside an element header')
    const group = bytes.readUInt16LE(at)
    const element = bytes.readUInt16LE(at + 2)
    const length = bytes.readUInt32LE(at + 4)
    if (group !== 0x0000) throw new CommandSetError(`element (${group.toString(16).padStart(4, '0')},${element.toString(16).padStart(4, '0')}) in a command set`)
    if (at + 8 + length > bytes.length) throw new CommandSetError('the command set ends inside an element value')
    values.set(element, bytes.subarray(at + 8, at + 8 + length))
    at += 8 + length
  }
  const field = values.get(0x0100)
  const dataSetType = values.get(0x0800)
  if (field === undefined || dataSetType === undefined) throw new CommandSetError('the command set has no CommandField or CommandDataSetType')
  const commandField = us(field, 0x0100)
  // Requests carry MessageID (0000,0110); responses MessageIDBeingRespondedTo (0000,0120).
  const id = values.get(0x0110) ?? values.get(0x0120)
  const get = (element: number): string | undefined => {
    const value = values.get(element)
    return value === undefined ? undefined : text(value)
  }
  const originatorId = values.get(0x1031)
  const optional = {
    affectedSopClassUid: get(0x0002),
    affectedSopInstanceUid: get(0x1000),
    moveOriginatorAet: get(0x1030),
    moveOriginatorMessageId: originatorId === undefined || originatorId.length !== 2 ? undefined : originatorId.readUInt16LE(0),
  }
  return {
    commandField,
    messageId: id === undefined ? 0 : us(id, 0x0110),
    hasDataSet: us(dataSetType, 0x0800) !== NO_DATA_SET,
    ...(Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) as Partial<CommandSet>),
  }
}

function element(tag: number, value: Buffer): Buffer {
  const header = Buffer.allocUnsafe(8)
  header.writeUInt16LE(0x0000, 0)
  header.writeUInt16LE(tag, 2)
  header.writeUInt32LE(value.length, 4)
  return Buffer.concat([header, value])
}

function uint16(value: number): Buffer {
  const out = Buffer.allocUnsafe(2)
  out.writeUInt16LE(value, 0)
  return out
}

function padded(value: string, pad: string): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value}${pad}`, 'latin1')
}

/** Error Comment is LO: at most 64 characters of the default repertoire (PS3.5 6.2), no backslash. */
function errorComment(comment: string): string {
  return comment.replace(/[^\x20-\x7e]|\\/g, '?').slice(0, 64).trimEnd()
}

export interface StoreResponseFields {
  readonly messageId: number
  readonly status: number
  readonly affectedSopClassUid?: string
  readonly affectedSopInstanceUid?: string
  readonly errorComment?: string
}

/** The command set of a C-STORE-RSP (PS3.7 Table 9.3-2), elements in ascending order, group length first (PS3.7 E.1-1). */
export function encodeStoreResponse(fields: StoreResponseFields): Buffer {
  const parts: Buffer[] = []
  if (fields.affectedSopClassUid !== undefined) parts.push(element(0x0002, padded(fields.affectedSopClassUid, '\0')))
  parts.push(element(0x0100, uint16(CommandField.CStoreRsp)))
  parts.push(element(0x0120, uint16(fields.messageId)))
  parts.push(element(0x0800, uint16(NO_DATA_SET)))
  parts.push(element(0x0900, uint16(fields.status)))
  const comment = fields.errorComment === undefined ? '' : errorComment(fields.errorComment)
  if (comment !== '') parts.push(element(0x0902, padded(comment, ' ')))
  if (fields.affectedSopInstanceUid !== undefined) parts.push(element(0x1000, padded(fields.affectedSopInstanceUid, '\0')))
  const body = Buffer.concat(parts)
  const groupLength = Buffer.allocUnsafe(4)
  groupLength.writeUInt32LE(body.length, 0)
  return Buffer.concat([element(0x0000, groupLength), body])
}

/**
 * One PDV, last fragment, as a P-DATA-TF PDU (PS3.8 9.3.5; message control header bits, E.2): a
 * response we send, or a message handed to dcmjs-dimse whole.
 */
export function singlePdvPdu(presentationContextId: number, isCommand: boolean, value: Buffer): Buffer {
  const header = Buffer.allocUnsafe(12)
  header.writeUInt8(PduType.PDataTf, 0)
  header.writeUInt8(0, 1)
  header.writeUInt32BE(value.length + 6, 2)
  header.writeUInt32BE(value.length + 2, 6)
  header.writeUInt8(presentationContextId, 10)
  header.writeUInt8(isCommand ? 0x03 : 0x02, 11)
  return Buffer.concat([header, value])
}
