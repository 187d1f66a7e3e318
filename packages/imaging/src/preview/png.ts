// A minimal PNG encoder (8-bit greyscale or RGB, no interlace), enough for result previews.
// Format: PNG specification, 2nd edition (W3C / ISO 15948): signature, IHDR, IDAT (zlib), IEND;
// each chunk is length, type, data, CRC-32 of type and data.
import { nodeZlib } from '@pacsflow/core'

export interface PngImage {
  readonly width: number
  readonly height: number
  /** 1: greyscale, 3: RGB. */
  readonly channels: 1 | 3
  /** `height` rows of `width * channels` bytes, top row first. */
  readonly pixels: Uint8Array
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

/** Encodes an image as PNG bytes. Rows are stored with filter 0 (none): previews compress well enough. */
export function encodePng(image: PngImage): Uint8Array {
  const { width, height, channels, pixels } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size must be positive integers, got ${width}x${height}`)
  }
  const stride = width * channels
  if (pixels.length !== stride * height) throw new RangeError(`PNG ${width}x${height}x${channels} needs ${stride * height} bytes, got ${pixels.length}`)
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  header[8] = 8 // bit depth
  header[9] = channels === 1 ? 0 : 2 // colour type: greyscale or truecolour
  // [10..12]: compression 0 (deflate), filter method 0, interlace 0 (none)
  const raw = new Uint8Array((stride + 1) * height)
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1)
  return concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', nodeZlib().deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))])
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, nodeZlib().crc32(out.subarray(4, 8 + data.length)))
  return out
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
