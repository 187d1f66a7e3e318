// Raw pixel sample bytes to typed stored values: byte order, BitsStored masking, sign extension (PS3.5 8.1.1, 8.2).

/** The array types pixel data is returned in. */
export type PixelArray = Int16Array | Uint16Array | Uint8Array | Int8Array | Int32Array | Uint32Array | Float32Array

/** The attributes that say how samples are laid out. */
export interface SampleLayout {
  readonly bitsAllocated: number
  readonly bitsStored: number
  readonly highBit: number
  readonly pixelRepresentation: 0 | 1
  /** Samples in the frame (rows × columns × samples per pixel). */
  readonly count: number
}

/** An aligned copy of `bytes` with each `width`-byte unit reversed (big endian to host little endian). */
function alignedCopy(bytes: Uint8Array, width: number, swap: boolean): ArrayBuffer {
  const copy = new Uint8Array(bytes.length)
  if (!swap || width === 1) {
    copy.set(bytes)
    return copy.buffer
  }
  for (let at = 0; at + width <= bytes.length; at += width) {
    for (let k = 0; k < width; k++) copy[at + k] = bytes[at + width - 1 - k] as number
  }
  return copy.buffer
}

/**
 * Stored values of one frame from its sample bytes (see {@link masked} for `mask`). `bigEndianWords` is the byte swap the
 * encoding needs: 0 for little endian, else the unit width (2 for OW, 4 for OL/OF; PS3.5 7.3).
 */
export function storedValues(bytes: Uint8Array, layout: SampleLayout, bigEndianWords: number, mask = true): PixelArray {
  const { bitsAllocated, count } = layout
  const width = bitsAllocated / 8
  const needed = count * width
  if (bytes.length < needed) throw new Error(`a frame needs ${needed} bytes of samples, ${bytes.length} are there`)
  const frame = bytes.subarray(0, needed)
  // 8-bit samples in a big-endian OW are swapped in pairs (PS3.5 8.1.1): undo that as 16-bit words.
  const buffer = bigEndianWords === 0 ? alignedCopy(frame, width, false) : alignedCopy(frame, Math.max(width, bigEndianWords), true)
  switch (bitsAllocated) {
    case 8: return masked(new Uint8Array(buffer), new Int8Array(buffer), layout, mask)
    case 16: return masked(new Uint16Array(buffer), new Int16Array(buffer), layout, mask)
    case 32: return masked(new Uint32Array(buffer), new Int32Array(buffer), layout, mask)
    default: throw new Error(`BitsAllocated ${bitsAllocated} is not supported (8, 16, 32 and 1 are)`)
  }
}

/**
 * Keeps the BitsStored bits that end at HighBit, sign-extending them for signed data (unless
 * `mask` is false: values that are already whole, e.g. from a JPEG 2000 decoder). The unsigned
 * and signed views share one buffer, so the signed result overwrites in place.
 */
function masked<U extends Uint8Array | Uint16Array | Uint32Array, S extends Int8Array | Int16Array | Int32Array>(
  unsigned: U,
  signed: S,
  layout: SampleLayout,
  mask: boolean,
): U | S {
  const { bitsAllocated, bitsStored, highBit, pixelRepresentation } = layout
  const shift = Math.max(0, highBit + 1 - bitsStored)
  if (!mask || (bitsStored >= bitsAllocated && shift === 0)) return pixelRepresentation === 1 ? signed : unsigned
  const free = 32 - bitsStored
  if (pixelRepresentation === 1) {
    for (let i = 0; i < unsigned.length; i++) signed[i] = (((unsigned[i] as number) >>> shift) << free) >> free
    return signed
  }
  const bits = bitsStored >= 32 ? 0xffff_ffff : 2 ** bitsStored - 1
  for (let i = 0; i < unsigned.length; i++) unsigned[i] = ((unsigned[i] as number) >>> shift) & bits
  return unsigned
}

/** One frame of 1-bit data (PS3.5 8.1.1: bits packed across frames, the first pixel in the lowest bit). */
export function unpackBits(bytes: Uint8Array, firstBit: number, count: number): Uint8Array {
  const out = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const bit = firstBit + i
    out[i] = ((bytes[bit >>> 3] ?? 0) >>> (bit & 7)) & 1
  }
  return out
}

/** Float pixel data (FloatPixelData, OF): 32-bit IEEE values. */
export function floatValues(bytes: Uint8Array, count: number, bigEndian: boolean): Float32Array {
  if (bytes.length < count * 4) throw new Error(`a frame needs ${count * 4} bytes of float samples, ${bytes.length} are there`)
  return new Float32Array(alignedCopy(bytes.subarray(0, count * 4), 4, bigEndian))
}
