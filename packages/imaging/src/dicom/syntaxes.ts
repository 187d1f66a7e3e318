// Which transfer syntaxes the reader decodes, and with which dcmjs-codecs decoder (PS3.5 8.2, Annex A).
import { NATIVE_SYNTAXES, TransferSyntax } from './tags.js'

/** The dcmjs-codecs NativeCodecs decoder of an encapsulated syntax. */
export type CodecName = 'decodeRle' | 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'decodeJpegXl'

const ENCAPSULATED: ReadonlyMap<string, CodecName | 'copy'> = new Map<string, CodecName | 'copy'>([
  // PS3.5 A.4.11: encapsulated but uncompressed, one frame per fragment run.
  [TransferSyntax.EncapsulatedUncompressed, 'copy'],
  [TransferSyntax.RleLossless, 'decodeRle'],
  // libjpeg decodes baseline, extended (12-bit) and lossless process 14 with any predictor.
  [TransferSyntax.JpegBaseline, 'decodeJpeg'],
  [TransferSyntax.JpegExtended, 'decodeJpeg'],
  [TransferSyntax.JpegLossless, 'decodeJpeg'],
  [TransferSyntax.JpegLosslessSV1, 'decodeJpeg'],
  [TransferSyntax.JpegLsLossless, 'decodeJpegLs'],
  [TransferSyntax.JpegLsNearLossless, 'decodeJpegLs'],
  [TransferSyntax.Jpeg2000Lossless, 'decodeJpeg2000'],
  [TransferSyntax.Jpeg2000, 'decodeJpeg2000'],
  [TransferSyntax.HtJpeg2000Lossless, 'decodeHtJpeg2000'],
  [TransferSyntax.HtJpeg2000LosslessRpcl, 'decodeHtJpeg2000'],
  [TransferSyntax.HtJpeg2000, 'decodeHtJpeg2000'],
  [TransferSyntax.JpegXlLossless, 'decodeJpegXl'],
  [TransferSyntax.JpegXl, 'decodeJpegXl'],
])

/** How the pixel data of a syntax is decoded, or undefined when nothing here decodes it. */
export function decoderOf(syntax: string): 'native' | 'copy' | CodecName | undefined {
  return NATIVE_SYNTAXES.has(syntax) ? 'native' : ENCAPSULATED.get(syntax)
}

/** True when readFramePixels can decode pixel data in this transfer syntax. */
export function isDecodableSyntax(syntax: string): boolean {
  return decoderOf(syntax) !== undefined
}
