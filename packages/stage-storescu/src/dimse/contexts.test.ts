// Presentation contexts: the files' own syntaxes plus uncompressed fallbacks; the choice prefers sending as stored.
import { describe, expect, it } from 'vitest'
import type { SendItem } from '../input.js'
import { chooseContext, EXPLICIT_VR_LITTLE_ENDIAN as EXPLICIT, IMPLICIT_VR_LITTLE_ENDIAN as IMPLICIT, proposeContexts, splitForContexts } from './contexts.js'
import type { DimseAssociation } from './facade.js'

const MR = '1.2.840.10008.5.1.4.1.1.4'
const CT = '1.2.840.10008.5.1.4.1.1.2'
const JPEG_LOSSLESS = '1.2.840.10008.1.2.4.70'

function item(sopClassUid: string, transferSyntaxUid: string, n = 1): SendItem {
  return { path: `/f${n}`, sizeBytes: 1, sopClassUid, sopInstanceUid: `1.2.${n}`, transferSyntaxUid, studyInstanceUid: '1', seriesInstanceUid: '2' }
}

/** An association as dcmjs-dimse leaves it after A-ASSOCIATE-AC: per context, a result and one syntax. */
function accepted(contexts: readonly [number, string, number, string][]): DimseAssociation {
  return {
    getMaxPduLength: () => 16384,
    getPresentationContexts: () =>
      contexts.map(([id, abstract, result, syntax]) => ({
        id,
        context: {
          getPresentationContextId: () => id,
          getAbstractSyntaxUid: () => abstract,
          getResult: () => result,
          getAcceptedTransferSyntaxUid: () => syntax,
          addTransferSyntaxUid: () => {},
        },
      })),
  }
}

describe('proposeContexts', () => {
  it('proposes each own syntax alone, then the uncompressed ones not yet proposed', () => {
    expect(proposeContexts([item(MR, EXPLICIT, 1), item(MR, JPEG_LOSSLESS, 2), item(CT, IMPLICIT, 3)])).toEqual([
      { abstractSyntaxUid: MR, transferSyntaxUids: [EXPLICIT] },
      { abstractSyntaxUid: MR, transferSyntaxUids: [JPEG_LOSSLESS] },
      { abstractSyntaxUid: MR, transferSyntaxUids: [IMPLICIT] },
      { abstractSyntaxUid: CT, transferSyntaxUids: [IMPLICIT] },
      { abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT] },
    ])
  })

  it('splits a batch whose contexts would not fit 128', () => {
    const many = Array.from({ length: 100 }, (_, k) => item(`1.2.840.10008.5.1.4.1.1.${k + 100}`, EXPLICIT, k))
    const groups = splitForContexts(many)
    expect(groups.length).toBe(2)
    expect(groups.flat()).toHaveLength(100)
    for (const group of groups) expect(proposeContexts(group).length).toBeLessThanOrEqual(127)
  })
})

describe('chooseContext', () => {
  it('sends as stored when the own syntax was accepted, else uncompressed Explicit before Implicit', () => {
    const jpeg = item(MR, JPEG_LOSSLESS)
    expect(chooseContext(accepted([[1, MR, 0, IMPLICIT], [3, MR, 0, JPEG_LOSSLESS]]), jpeg)).toEqual({ presentationContextId: 3, transferSyntaxUid: JPEG_LOSSLESS, raw: true })
    expect(chooseContext(accepted([[1, MR, 0, IMPLICIT], [3, MR, 4, ''], [5, MR, 0, EXPLICIT]]), jpeg)).toEqual({ presentationContextId: 5, transferSyntaxUid: EXPLICIT, raw: false })
    expect(chooseContext(accepted([[1, MR, 0, `${IMPLICIT}\0`]]), jpeg)).toEqual({ presentationContextId: 1, transferSyntaxUid: IMPLICIT, raw: false })
  })

  it('finds nothing when the SOP class was refused (result 3, abstract syntax not supported)', () => {
    expect(chooseContext(accepted([[1, MR, 3, EXPLICIT], [3, CT, 0, EXPLICIT]]), item(MR, EXPLICIT))).toBeUndefined()
  })
})
