// A small seeded random source (splitmix32 seeding a xoshiro128**), so an exam is the same bytes for the same seed.

/** Uniform numbers in [0, 1) and standard normal numbers, reproducible from a seed. */
export interface RandomSource {
  uniform(): number
  normal(): number
}

/** 32-bit hash of a string (FNV-1a), to turn text seeds and stream names into integers. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021),
 * its 128-bit state filled by splitmix32 from the seed; normals by the Box-Muller transform
 * (Box & Muller 1958), both values of each pair used.
 */
export function randomSource(seed: number, stream = ''): RandomSource {
  let mix = (seed ^ hashString(stream)) >>> 0
  const splitmix = (): number => {
    mix = (mix + 0x9e3779b9) >>> 0
    let z = mix
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  let spare: number | undefined
  const uniform = (): number => next() / 4294967296
  return {
    uniform,
    normal: () => {
      if (spare !== undefined) {
        const value = spare
        spare = undefined
        return value
      }
      // 1 - u is in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - uniform()))
      const angle = 2 * Math.PI * uniform()
      spare = radius * Math.sin(angle)
      return radius * Math.cos(angle)
    },
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
