// Which presentation contexts the receiver accepts: every Storage SOP class and Verification, in the transfer syntaxes it can store as received.
import { TransferSyntax } from '@pacsflow/imaging'
import { ContextResult } from '../dimse/constants.js'
import type { DimseAssociation } from '../dimse/facade.js'

/** Verification SOP Class (PS3.4 A.4): C-ECHO. */
export const VERIFICATION = '1.2.840.10008.1.1'

/**
 * Every standard Storage SOP class is `1.2.840.10008.5.1.4.1.1.<n>` (PS3.6 Table A-1; PS3.4
 * Table B.5-1), images (MR, Enhanced MR .4.1, MR Spectroscopy .4.2, Legacy Converted .4.4...)
 * and non-images (SR, PDF, presentation states, raw data) alike.
 */
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.'

/** Storage SOP classes of PS3.4 Table B.5-1 outside that root. */
const STORAGE_OUTSIDE_ROOT: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.34.7', // RT Beams Delivery Instruction Storage
  '1.2.840.10008.5.1.4.34.10', // RT Brachy Application Setup Delivery Instruction Storage
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
])

/** True for a standard Storage SOP class (PS3.4 Annex B). */
export function isStorageSopClass(uid: string): boolean {
  return (uid.startsWith(STORAGE_ROOT) && uid.length > STORAGE_ROOT.length) || STORAGE_OUTSIDE_ROOT.has(uid)
}

/**
 * The transfer syntaxes accepted by default: all three uncompressed ones and deflate (PS3.5
 * A.1-A.5), encapsulated uncompressed, and the compressed ones @pacsflow/imaging decodes: RLE,
 * JPEG baseline, extended, lossless (process 14 and SV1), JPEG-LS, JPEG 2000 and HTJ2K, lossless
 * and lossy (PS3.5 A.4). Objects are stored as received: nothing is transcoded.
 */
export const DEFAULT_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.EncapsulatedUncompressed,
  TransferSyntax.RleLossless,
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegExtended,
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegLosslessSV1,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsNearLossless,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000,
  TransferSyntax.HtJpeg2000Lossless,
  TransferSyntax.HtJpeg2000LosslessRpcl,
  TransferSyntax.HtJpeg2000,
]

/** Verification carries no data set; PS3.5 10.1 makes Implicit VR Little Endian the one every AE supports. */
const VERIFICATION_SYNTAXES: ReadonlySet<string> = new Set([TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRLittleEndian])

export interface ContextPolicy {
  readonly transferSyntaxes: ReadonlySet<string>
  /** Private or non-standard SOP classes to accept as storage too. */
  readonly extraSopClasses: ReadonlySet<string>
}

export interface ContextDecision {
  readonly id: number
  readonly abstractSyntaxUid: string
  readonly result: number
  readonly transferSyntaxUid?: string
}

/**
 * The answer for one proposed context: the first transfer syntax in the order the sender
 * proposed it that we accept (PS3.8 9.3.2.2 lets the acceptor pick any one). Senders list the
 * encoding the object already has first, so it arrives as it is, without a transcoding on
 * their side. (DCMTK's storescp instead picks by its own preference list, uncompressed first.)
 */
export function decideContext(abstractSyntaxUid: string, proposed: readonly string[], policy: ContextPolicy): Omit<ContextDecision, 'id'> {
  const storage = isStorageSopClass(abstractSyntaxUid) || policy.extraSopClasses.has(abstractSyntaxUid)
  const acceptable = abstractSyntaxUid === VERIFICATION ? VERIFICATION_SYNTAXES : storage ? policy.transferSyntaxes : undefined
  if (acceptable === undefined) return { abstractSyntaxUid, result: ContextResult.AbstractSyntaxNotSupported }
  const chosen = proposed.find((uid) => acceptable.has(uid))
  if (chosen === undefined) return { abstractSyntaxUid, result: ContextResult.TransferSyntaxesNotSupported }
  return { abstractSyntaxUid, result: ContextResult.Acceptance, transferSyntaxUid: chosen }
}

/** Decides every proposed context of an A-ASSOCIATE-RQ and records the results on it (for the A-ASSOCIATE-AC). */
export function negotiateContexts(association: DimseAssociation, policy: ContextPolicy): ContextDecision[] {
  return association.getPresentationContexts().map(({ id, context }) => {
    const decision = decideContext(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids(), policy)
    context.setResult(decision.result, decision.transferSyntaxUid)
    return { id, ...decision }
  })
}
