// Our C-STORE-RQ command set decodes, with dcmjs-dimse's own reader, to what a C-STORE-RQ must hold.
import { describe, expect, it } from 'vitest'
import { encodeCStoreRq } from './command.js'
import { dimse } from './facade.js'

describe('encodeCStoreRq', () => {
  it('holds the group length, SOP class and instance, C-STORE-RQ, message id, priority and data set flag', () => {
    const bytes = encodeCStoreRq(513, '1.2.840.10008.5.1.4.1.1.4', '1.2.3.45')
    const decoded = new (dimse().Dataset)(bytes, '1.2.840.10008.1.2')
    expect(decoded.getElement('CommandGroupLength')).toBe(bytes.length - 12)
    expect(decoded.getElement('AffectedSOPClassUID')).toBe('1.2.840.10008.5.1.4.1.1.4')
    expect(decoded.getElement('AffectedSOPInstanceUID')).toBe('1.2.3.45')
    expect(decoded.getElement('CommandField')).toBe(0x0001)
    expect(decoded.getElement('MessageID')).toBe(513)
    expect(decoded.getElement('Priority')).toBe(0)
    expect(decoded.getElement('CommandDataSetType')).not.toBe(0x0101)
    // Odd-length UIDs are padded to even length (PS3.5 9.1); every element length is even.
    expect(bytes.length % 2).toBe(0)
  })
})
