import { crc32, inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { encodePng } from './png.js'
import { mosaic } from './mosaic.js'

/** A strict reader for what encodePng writes: checks the signature, every CRC, and un-filters rows. */
function decodePng(bytes: Uint8Array): { width: number; height: number; colourType: number; pixels: Uint8Array; types: string[] } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const types: string[] = []
  const idat: Uint8Array[] = []
  let [width, height, colourType] = [0, 0, 0]
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    const data = bytes.subarray(at + 8, at + 8 + length)
    expect(view.getUint32(at + 8 + length)).toBe(crc32(bytes.subarray(at + 4, at + 8 + length)))
    types.push(type)
    if (type === 'IHDR') [width, height, colourType] = [view.getUint32(at + 8), view.getUint32(at + 12), data[9]!]
    if (type === 'IDAT') idat.push(data)
    at += 12 + length
  }
  const channels = colourType === 0 ? 1 : 3
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0) // filter type none
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride)
  }
  return { width, height, colourType, pixels, types }
}

describe('encodePng', () => {
  it('writes a valid greyscale PNG whose pixels read back exactly', () => {
    const pixels = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) & 255)
    const png = decodePng(encodePng({ width: 7, height: 5, channels: 1, pixels }))
    expect(png).toMatchObject({ width: 7, height: 5, colourType: 0, types: ['IHDR', 'IDAT', 'IEND'] })
    expect([...png.pixels]).toEqual([...pixels])
  })

  it('writes RGB, and refuses a buffer of the wrong size', () => {
    const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 10)
    const png = decodePng(encodePng({ width: 3, height: 2, channels: 3, pixels }))
    expect(png.colourType).toBe(2)
    expect([...png.pixels]).toEqual([...pixels])
    expect(() => encodePng({ width: 3, height: 2, channels: 1, pixels })).toThrow(/needs 6 bytes/)
    expect(() => encodePng({ width: 0, height: 2, channels: 1, pixels })).toThrow(/positive/)
  })
})

describe('mosaic', () => {
  // 4x3 slices, 4 of them; voxel value = slice * 100 + y * 10 + x.
  const dims = [4, 3, 4] as const
  const data = Float32Array.from({ length: 48 }, (_, i) => Math.floor(i / 12) * 100 + Math.floor((i % 12) / 4) * 10 + (i % 4))

  it('tiles the slices in reading order, anterior (high y) up, with the window mapped to 0..255', () => {
    const m = mosaic(data, dims, { slices: 4, columns: 2, window: { center: 150, width: 300 } })
    expect(m).toMatchObject({ width: 8, height: 6, slices: [0, 1, 2, 3] })
    const at = (x: number, y: number): number => m.pixels[y * m.width + x]!
    const grey = (value: number): number => Math.max(0, Math.min(255, Math.round(((value - 0) * 255) / 300)))
    // Tile 0 (slice 0) top-left: its top image row is y = 2.
    expect(at(0, 0)).toBe(grey(20))
    expect(at(3, 2)).toBe(grey(3))
    // Tile 3 (slice 3) bottom-right: value 300 + ... clips at white.
    expect(at(4, 3)).toBe(255)
    // Tile 1 (slice 1) top-right, pixel x=1 of row y=1.
    expect(at(5, 1)).toBe(grey(111))
  })

  it('tiles only the slices that hold something', () => {
    const padded = new Float32Array(4 * 3 * 10)
    padded.set(data, 12 * 3) // slices 3..6 hold the data, the rest is zero
    const m = mosaic(padded, [4, 3, 10], { slices: 16 })
    expect(m.slices).toEqual([3, 4, 5, 6])
  })

  it('blacks out voxels outside the mask and picks a percentile window by default', () => {
    const mask = Uint8Array.from({ length: 48 }, (_, i) => (i % 4 === 0 ? 0 : 1))
    const m = mosaic(data, dims, { slices: 4, columns: 4, mask })
    expect(m.pixels[0]).toBe(0)
    expect(m.window.width).toBeGreaterThan(0)
    expect(m.window.center).toBeGreaterThan(100)
    expect(m.window.center).toBeLessThan(250)
    expect(() => mosaic(data.subarray(0, 10), dims)).toThrow(/need 48/)
  })
})
