import { describe, expect, it } from 'vitest'
import { CommandSetError, encodeStoreResponse, parseCommandSet, singlePdvPdu } from './command-set.js'

/** An Implicit VR Little Endian group 0000 element. */
function element(tag: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt16LE(0x0000, 0)
  header.writeUInt16LE(tag, 2)
  header.writeUInt32LE(value.length, 4)
  return Buffer.concat([header, value])
}
const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8])
const ui = (text: string): Buffer => Buffer.from(text.length % 2 === 0 ? text : `${text}\0`, 'latin1')

/** A C-STORE-RQ as storescu sends it (PS3.7 Table 9.3-1). */
function storeRequest(messageId: number, originator?: string): Buffer {
  const body = Buffer.concat([
    element(0x0002, ui('1.2.840.10008.5.1.4.1.1.4')),
    element(0x0100, us(0x0001)),
    element(0x0110, us(messageId)),
    element(0x0700, us(0)),
    element(0x0800, us(0x0000)),
    element(0x1000, ui('1.2.3.4.5')),
    ...(originator === undefined ? [] : [element(0x1030, Buffer.from(`${originator} `.slice(0, originator.length + (originator.length % 2)), 'latin1')), element(0x1031, us(7))]),
  ])
  const length = Buffer.alloc(4)
  length.writeUInt32LE(body.length)
  return Buffer.concat([element(0x0000, length), body])
}

describe('command sets', () => {
  it('reads a C-STORE-RQ: field, message ID, data set present, UIDs without padding, move originator', () => {
    expect(parseCommandSet(storeRequest(42))).toEqual({
      commandField: 0x0001,
      messageId: 42,
      hasDataSet: true,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      affectedSopInstanceUid: '1.2.3.4.5',
    })
    expect(parseCommandSet(storeRequest(1, 'ORTHANC'))).toMatchObject({ moveOriginatorAet: 'ORTHANC', moveOriginatorMessageId: 7 })
  })

  it('refuses what is not a command set', () => {
    const good = storeRequest(1)
    expect(() => parseCommandSet(good.subarray(0, good.length - 3))).toThrow(CommandSetError)
    expect(() => parseCommandSet(good.subarray(0, 5))).toThrow(/element header/)
    const foreign = Buffer.from(good)
    foreign.writeUInt16LE(0x0008, 12)
    expect(() => parseCommandSet(foreign)).toThrow(/in a command set/)
    expect(() => parseCommandSet(element(0x0110, us(1)))).toThrow(/no CommandField/)
  })

  it('writes a C-STORE-RSP that reads back (PS3.7 Table 9.3-2): no data set, status, even lengths, group length', () => {
    const bytes = encodeStoreResponse({ messageId: 9, status: 0xa700, affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.4', affectedSopInstanceUid: '1.2.3.4.5', errorComment: 'spool: ENOSPC' })
    expect(parseCommandSet(bytes)).toMatchObject({ commandField: 0x8001, messageId: 9, hasDataSet: false, affectedSopInstanceUid: '1.2.3.4.5' })
    expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12)
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at + 4)
      expect(length % 2).toBe(0)
      if (bytes.readUInt16LE(at + 2) === 0x0900) expect(bytes.readUInt16LE(at + 8)).toBe(0xa700)
      at += 8 + length
    }
  })

  it('keeps an error comment within LO: 64 characters of the default repertoire, no backslash', () => {
    const bytes = encodeStoreResponse({ messageId: 1, status: 0xc000, errorComment: `UID_INVALID: ${'é\\'.repeat(40)}` })
    const at = bytes.indexOf(Buffer.from([0x00, 0x00, 0x02, 0x09]))
    const comment = bytes.toString('latin1', at + 8, at + 8 + bytes.readUInt32LE(at + 4))
    expect(comment.trimEnd().length).toBeLessThanOrEqual(64)
    expect(comment).toMatch(/^[\x20-\x5b\x5d-\x7e]+$/)
  })

  it('wraps one PDV as a P-DATA-TF PDU with the command and last-fragment bits (PS3.8 9.3.5, E.2)', () => {
    const pdu = singlePdvPdu(5, true, Buffer.from([1, 2, 3, 4]))
    expect([...pdu]).toEqual([0x04, 0, 0, 0, 0, 10, 0, 0, 0, 6, 5, 0x03, 1, 2, 3, 4])
    expect(singlePdvPdu(5, false, Buffer.alloc(0))[11]).toBe(0x02)
  })
})
