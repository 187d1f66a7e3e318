import { describe, expect, it } from 'vitest'
import { elementHeader, encodeElement, naturalize, readPart10, writePart10, type RawDict } from '@pacsflow/imaging'
import { dsElement, int16Element, isElement, sqElement, uiElement } from './elements.js'
import { assembleFile, buildTemplate, fileMeta } from './template.js'

/** The dataset part of a Part 10 file, as dcmjs reads it, keyword-named. */
const read = (bytes: Uint8Array): Record<string, unknown> => naturalize(readPart10(bytes).dict)

describe('per-slice elements and the template', () => {
  const uid = '2.25.1234567890123456789'
  const shared: RawDict = {
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.4'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00200037': { vr: 'DS', Value: ['1', '0', '0', '0', '1', '0'] },
    '00280010': { vr: 'US', Value: [2] },
    '00280103': { vr: 'US', Value: [1] },
  }
  const tags = [0x00080018, 0x00082112, 0x00200013, 0x00200032, 0x00280106, 0x7fe00010]
  const identity = { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', implementationClassUid: '2.25.42', implementationVersionName: 'PACSFLOW_TEST' }

  it('splices into the same dataset dcmjs writes from the whole dictionary', () => {
    const template = buildTemplate(shared, tags, identity)
    const { bytes: file } = assembleFile(template, fileMeta(template, uid), [
      uiElement(0x00080018, uid),
      sqElement(0x00082112, [[uiElement(0x00081150, '1.2.3'), uiElement(0x00081155, '1.2.3.4.5')], [uiElement(0x00081155, '9.8')]]),
      isElement(0x00200013, 12),
      dsElement(0x00200032, [-104.5, 0.1, 1 / 3]),
      int16Element(0x00280106, 'SS', -32768),
      new Uint8Array(0), // left out
    ])
    const whole = writePart10({
      meta: { '00020002': { vr: 'UI', Value: [identity.sopClassUid] }, '00020003': { vr: 'UI', Value: [uid] } },
      dict: {
        ...shared,
        '00080018': { vr: 'UI', Value: [uid] },
        '00082112': {
          vr: 'SQ',
          Value: [
            { '00081150': { vr: 'UI', Value: ['1.2.3'] }, '00081155': { vr: 'UI', Value: ['1.2.3.4.5'] } },
            { '00081155': { vr: 'UI', Value: ['9.8'] } },
          ],
        },
        '00200013': { vr: 'IS', Value: ['12'] },
        '00200032': { vr: 'DS', Value: ['-104.5', '0.1', '0.33333333333333'] },
        '00280106': { vr: 'SS', Value: [-32768] },
      },
    })
    expect(read(file)).toEqual(read(whole))
    const meta = naturalize(readPart10(file).meta)
    expect(meta).toMatchObject({
      MediaStorageSOPClassUID: identity.sopClassUid,
      MediaStorageSOPInstanceUID: uid,
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      ImplementationClassUID: '2.25.42',
      ImplementationVersionName: 'PACSFLOW_TEST',
    })
  })

  it('writes unsigned 16-bit values, and OW pixel data little endian, as a value or in place after its header', () => {
    const template = buildTemplate(shared, [0x00280106, 0x7fe00010], identity)
    const pixels = Uint16Array.of(0, 1, 65535, 256)
    const whole = assembleFile(template, fileMeta(template, uid), [
      int16Element(0x00280106, 'US', 65535),
      encodeElement(0x7fe00010, 'OW', new Uint8Array(pixels.buffer)),
    ])
    expect(read(whole.bytes).SmallestImagePixelValue).toBe(65535)
    const inPlace = assembleFile(template, fileMeta(template, uid), [new Uint8Array(0), elementHeader(0x7fe00010, 'OW', 8)], 8)
    new Uint16Array(inPlace.bytes.buffer, inPlace.tailOffset, 4).set(pixels)
    for (const { bytes } of [whole, inPlace]) {
      const data = readPart10(bytes).dict['7FE00010']!.Value![0] as ArrayBuffer
      expect(Array.from(new Uint16Array(data))).toEqual([0, 1, 65535, 256])
    }
  })

  it('refuses a per-slice tag in the shared attributes and odd-length values', () => {
    expect(() => buildTemplate({ '00200013': { vr: 'IS', Value: ['1'] } }, [0x00200013], identity)).toThrow(RangeError)
    expect(() => sqElement(0x00082112, [[new Uint8Array(3)]])).toThrow(RangeError)
    expect(() => dsElement(0x00200032, [Number.POSITIVE_INFINITY])).toThrow(RangeError)
  })
})
