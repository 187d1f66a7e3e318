import { describe, expect, it } from 'vitest'
import { TransferSyntax } from '@pacsflow/imaging'
import { decideContext, DEFAULT_TRANSFER_SYNTAXES, isStorageSopClass, VERIFICATION } from './presentation.js'

const policy = { transferSyntaxes: new Set(DEFAULT_TRANSFER_SYNTAXES), extraSopClasses: new Set(['1.3.12.2.1107.5.9.1']) }
const MR = '1.2.840.10008.5.1.4.1.1.4'

describe('presentation contexts', () => {
  it('knows the Storage SOP classes: classic and enhanced MR, MR spectroscopy, the ones outside the usual root; not query/retrieve', () => {
    for (const uid of [MR, '1.2.840.10008.5.1.4.1.1.4.1', '1.2.840.10008.5.1.4.1.1.4.2', '1.2.840.10008.5.1.4.1.1.4.4', '1.2.840.10008.5.1.4.1.1.88.22', '1.2.840.10008.5.1.4.38.1']) {
      expect(isStorageSopClass(uid), uid).toBe(true)
    }
    for (const uid of ['1.2.840.10008.5.1.4.1.2.2.1', '1.2.840.10008.5.1.4.1.1', VERIFICATION, '1.2.840.10008.3.1.1.1']) expect(isStorageSopClass(uid), uid).toBe(false)
  })

  it("takes the first syntax in the sender's order that it can store as received", () => {
    expect(decideContext(MR, [TransferSyntax.JpegLosslessSV1, TransferSyntax.ExplicitVRLittleEndian], policy)).toEqual({ abstractSyntaxUid: MR, result: 0, transferSyntaxUid: TransferSyntax.JpegLosslessSV1 })
    expect(decideContext(MR, ['1.2.840.10008.1.2.4.100', TransferSyntax.ImplicitVRLittleEndian], policy)).toMatchObject({ result: 0, transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian })
    expect(decideContext(MR, ['1.2.840.10008.1.2.4.100'], policy)).toEqual({ abstractSyntaxUid: MR, result: 4 })
  })

  it('accepts Verification in the little endian syntaxes, private classes only when listed, and refuses other abstract syntaxes (result 3)', () => {
    expect(decideContext(VERIFICATION, [TransferSyntax.ImplicitVRLittleEndian], policy)).toMatchObject({ result: 0 })
    expect(decideContext(VERIFICATION, [TransferSyntax.JpegBaseline], policy)).toMatchObject({ result: 4 })
    expect(decideContext('1.3.12.2.1107.5.9.1', [TransferSyntax.ExplicitVRLittleEndian], policy)).toMatchObject({ result: 0 })
    expect(decideContext('1.3.46.670589.11.0.0.12.1', [TransferSyntax.ExplicitVRLittleEndian], policy)).toMatchObject({ result: 3 })
    expect(decideContext('1.2.840.10008.5.1.4.1.2.2.2', [TransferSyntax.ImplicitVRLittleEndian], policy)).toMatchObject({ result: 3 })
  })

  it('follows a narrowed list of transfer syntaxes', () => {
    const uncompressed = { ...policy, transferSyntaxes: new Set<string>([TransferSyntax.ExplicitVRLittleEndian]) }
    expect(decideContext(MR, [TransferSyntax.Jpeg2000Lossless], uncompressed)).toMatchObject({ result: 4 })
  })
})
