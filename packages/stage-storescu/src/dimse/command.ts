// The C-STORE-RQ command set, encoded directly: dcmjs's writer allocates 512 KiB of zeroed buffers per command.
import type { Socket } from 'node:net'

/** C-STORE-RQ (PS3.7 9.3.1.1) */
const C_STORE_RQ = 0x0001
/** Any value but 0x0101 says a data set follows (PS3.7 E.1-1). */
const DATA_SET_PRESENT = 0x0000
const PRIORITY_MEDIUM = 0x0000

function uidValue(uid: string): Buffer {
  // UIDs are padded to even length with a single NUL (PS3.5 9.1).
  return Buffer.from(uid.length % 2 === 0 ? uid : `${uid}\0`, 'latin1')
}

function element(element: number, value: Buffer): Buffer {
  const header = Buffer.allocUnsafe(8)
  header.writeUInt16LE(0x0000, 0)
  header.writeUInt16LE(element, 2)
  header.writeUInt32LE(value.length, 4)
  return Buffer.concat([header, value])
}

function us(value: number): Buffer {
  const out = Buffer.allocUnsafe(2)
  out.writeUInt16LE(value, 0)
  return out
}

/**
 * The command set of a C-STORE-RQ in Implicit VR Little Endian (as every command set is,
 * PS3.7 6.3.1), elements in ascending order, group length first (PS3.7 Table E.1-1).
 */
export function encodeCStoreRq(messageId: number, sopClassUid: string, sopInstanceUid: string): Buffer {
  const body = Buffer.concat([
    element(0x0002, uidValue(sopClassUid)),
    element(0x0100, us(C_STORE_RQ)),
    element(0x0110, us(messageId)),
    element(0x0700, us(PRIORITY_MEDIUM)),
    element(0x0800, us(DATA_SET_PRESENT)),
    element(0x1000, uidValue(sopInstanceUid)),
  ])
  const groupLength = Buffer.allocUnsafe(4)
  groupLength.writeUInt32LE(body.length, 0)
  return Buffer.concat([element(0x0000, groupLength), body])
}

/** Queues a command set as one P-DATA-TF PDU with a single, last, command PDV (PS3.8 9.3.5, E.2). */
export function writeCommandPdu(socket: Socket, presentationContextId: number, command: Buffer): void {
  const header = Buffer.allocUnsafe(12)
  header.writeUInt8(0x04, 0)
  header.writeUInt8(0, 1)
  header.writeUInt32BE(command.length + 6, 2)
  header.writeUInt32BE(command.length + 2, 6)
  header.writeUInt8(presentationContextId, 10)
  header.writeUInt8(0x03, 11) // command fragment, last fragment
  socket.write(Buffer.concat([header, command]))
}
