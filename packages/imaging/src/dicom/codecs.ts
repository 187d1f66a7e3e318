// The dcmjs-codecs WebAssembly decoders, loaded once, on the first compressed frame.
import type { CodecName } from './syntaxes.js'

type CodecsModule = typeof import('dcmjs-codecs')

let loading: Promise<CodecsModule> | undefined

async function load(): Promise<CodecsModule> {
  const imported = (await import('dcmjs-codecs')) as CodecsModule & { default?: CodecsModule }
  // A CommonJS bundle: under ESM its exports arrive as the default export.
  const codecs = imported.default ?? imported
  // Its bundled logger would print codec warnings to the console; failures still arrive as exceptions.
  codecs.log.setLevel('silent')
  if (!codecs.NativeCodecs.isInitialized()) await codecs.NativeCodecs.initializeAsync()
  return codecs
}

/** dcmjs-codecs with its WebAssembly module initialised (once per process). */
export function loadCodecs(): Promise<CodecsModule> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}

/** What a codec needs to know about a frame (PS3.3 C.7.6.3 Image Pixel Module). */
export interface FrameGeometry {
  readonly rows: number
  readonly columns: number
  readonly bitsAllocated: number
  readonly bitsStored: number
  readonly samplesPerPixel: number
  readonly pixelRepresentation: number
  readonly planarConfiguration: number
  readonly photometricInterpretation: string
}

/** Decodes one compressed frame to little-endian samples of `bitsAllocated` bits; throws on codec failure. */
export async function decodeFrame(codec: CodecName, encoded: Uint8Array, geometry: FrameGeometry): Promise<Uint8Array> {
  let codecs = await loadCodecs()
  // Another frame's failure may have dropped the instance while this one waited.
  while (!codecs.NativeCodecs.isInitialized()) codecs = await loadCodecs()
  const { Context, NativeCodecs } = codecs
  const context = new Context({
    width: geometry.columns,
    height: geometry.rows,
    bitsAllocated: geometry.bitsAllocated,
    bitsStored: geometry.bitsStored,
    samplesPerPixel: geometry.samplesPerPixel,
    pixelRepresentation: geometry.pixelRepresentation,
    planarConfiguration: geometry.planarConfiguration,
    photometricInterpretation: geometry.photometricInterpretation,
    encodedBuffer: encoded,
  })
  let decoded: Uint8Array | undefined
  try {
    // Stored values are wanted, so no colour conversion: YBR stays YBR, as in the header.
    decoded = NativeCodecs[codec](context, { convertColorspaceToRgb: false }).getDecodedBuffer()
  } catch (error) {
    // A failed decode leaves the WebAssembly instance unusable (a trap, or an exception thrown
    // through C++ frames): drop it, so that the next frame gets a fresh one.
    NativeCodecs.release()
    loading = undefined
    throw error
  }
  if (decoded === undefined) throw new Error('the codec returned no data')
  return decoded
}
