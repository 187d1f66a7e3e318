import { describe, expect, it } from 'vitest'
import { naturalize, readPart10 } from './dcmjs.js'
import { concatBytes, elementHeader, encodeElement, encodeFileMeta, fileMetaLength, formatDs, formatIs, isLongVr, textValue, writeFileMeta, type FileMetaFields } from './encode.js'

describe('formatDs', () => {
  it('keeps as many digits as 16 characters hold, and no more', () => {
    expect(formatDs(0)).toBe('0')
    expect(formatDs(-0)).toBe('0')
    expect(formatDs(3.25)).toBe('3.25')
    expect(formatDs(0.001)).toBe('0.001')
    expect(formatDs(-32.768)).toBe('-32.768')
    expect(formatDs(1 / 3)).toBe('0.33333333333333')
    expect(formatDs(-112.48453521728516)).toBe('-112.48453521729')
    expect(formatDs(1.5e-7)).toBe('1.5e-7')
    expect(formatDs(-6.123233995736766e-17)).toBe('-6.123233996e-17')
    for (const value of [Math.PI * 1e5, -Math.E, 0.9999999999999999, 123456789012345678, -1e-300]) {
      const text = formatDs(value)
      expect(text.length).toBeLessThanOrEqual(16)
      expect(Math.abs(Number(text) - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-10)
    }
    expect(() => formatDs(Number.NaN)).toThrow(RangeError)
    expect(formatIs(-2147483648)).toBe('-2147483648')
    expect(() => formatIs(2 ** 31)).toThrow(RangeError)
  })
})

describe('elements and the file meta group', () => {
  it('writes 8-byte headers for short VRs and 12-byte ones for long VRs, little endian', () => {
    expect([...elementHeader(0x00280010, 'US', 2)]).toEqual([0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 2, 0])
    expect([...elementHeader(0x7fe00010, 'OW', 0x20000)]).toEqual([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0, 0, 0x00, 0x00, 0x02, 0x00])
    expect(isLongVr('SQ')).toBe(true)
    expect(isLongVr('DS')).toBe(false)
    expect(() => elementHeader(0x00100010, 'PN', 3)).toThrow(/odd value length/)
    expect(() => elementHeader(0x00100010, 'LO', 0x10000)).toThrow(/do not fit VR LO/)
  })

  it('pads text to even length with NUL for UI and a space otherwise, and joins values with a backslash', () => {
    expect(new TextDecoder().decode(textValue('UI', ['1.2.3']))).toBe('1.2.3\0')
    expect(new TextDecoder().decode(textValue('CS', ['DERIVED', 'M']))).toBe('DERIVED\\M ')
    expect(new TextDecoder().decode(textValue('SH', ['ab']))).toBe('ab')
    expect([...concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)])]).toEqual([1, 2, 3])
    expect(encodeElement(0x00200013, 'IS', textValue('IS', [formatIs(7)])).length).toBe(10)
  })

  it('writes a meta group that dcmjs and our parser read back, with its group length and the source AE', () => {
    const meta = encodeFileMeta({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      sopInstanceUid: '2.25.123',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      implementationClassUid: '2.25.42',
      implementationVersionName: 'PACSFLOW_0.1.0_AND_MORE',
      sourceAet: 'SCANNER',
    })
    expect(new TextDecoder().decode(meta.subarray(128, 132))).toBe('DICM')
    const groupLength = new DataView(meta.buffer, meta.byteOffset).getUint32(140, true)
    expect(144 + groupLength).toBe(meta.length)
    // an empty data set after the meta: dcmjs reads the meta group
    const read = readPart10(meta)
    const fields = naturalize(read.meta)
    expect(fields).toMatchObject({
      MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
      MediaStorageSOPInstanceUID: '2.25.123',
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      ImplementationClassUID: '2.25.42',
      ImplementationVersionName: 'PACSFLOW_0.1.0_A',
      SourceApplicationEntityTitle: 'SCANNER',
    })
    expect(encodeFileMeta({ sopClassUid: '1.2', sopInstanceUid: '1.3', transferSyntaxUid: '1.2.840.10008.1.2', implementationClassUid: '2.25.1', implementationVersionName: 'X' }).length).toBeLessThan(meta.length)
  })

  it('writes the same meta group into a reused buffer at an offset, with every stale byte overwritten, and refuses one that is too small', () => {
    const fields: FileMetaFields = {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      sopInstanceUid: '2.25.12345678', // odd length: padded with NUL
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      implementationClassUid: '2.25.42',
      implementationVersionName: 'PACSFLOW_0.1',
      sourceAet: 'MRI', // odd length: padded with a space
    }
    const expected = encodeFileMeta(fields)
    expect(fileMetaLength(fields)).toBe(expected.length)
    // the parts, element by element, as PS3.10 Table 7.1-1 lays them out
    const groupLength = 12 + 14 + (8 + 26) + (8 + 14) + (8 + 20) + (8 + 8) + (8 + 12) + (8 + 4)
    expect(expected.length).toBe(132 + groupLength)
    expect(new DataView(expected.buffer).getUint32(140, true)).toBe(groupLength - 12)
    expect([...expected.subarray(132 + 12 + 14 + 34 + 8 + 12, 132 + 12 + 14 + 34 + 8 + 14)]).toEqual([0x38, 0]) // ...678 then NUL
    expect(new TextDecoder().decode(expected.subarray(expected.length - 4))).toBe('MRI ')

    const reused = new Uint8Array(expected.length + 20).fill(0xee)
    expect(writeFileMeta(reused, fields, 7)).toBe(7 + expected.length)
    expect([...reused.subarray(7, 7 + expected.length)]).toEqual([...expected])
    expect(reused[6]).toBe(0xee)
    expect(reused[7 + expected.length]).toBe(0xee)
    expect(() => writeFileMeta(new Uint8Array(expected.length - 1), fields)).toThrow(RangeError)
  })

  it('counts and pads non-ASCII text by its UTF-8 bytes', () => {
    const fields: FileMetaFields = { sopClassUid: '1.2', sopInstanceUid: '1.3', transferSyntaxUid: '1.2.840.10008.1.2', implementationClassUid: '2.25.1', implementationVersionName: 'X', sourceAet: 'CAFÉ' }
    const meta = encodeFileMeta(fields)
    // 'CAFÉ' is 5 bytes in UTF-8, padded to 6
    expect(new TextDecoder().decode(meta.subarray(meta.length - 6))).toBe('CAFÉ ')
    expect(new DataView(meta.buffer).getUint16(meta.length - 8, true)).toBe(6)
    expect(fileMetaLength(fields)).toBe(meta.length)
  })
})
