import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { PacsflowError } from '@pacsflow/core'
import { fft3d, type Shape3 } from './fft3d.js'
import { irfft3d, rfft3d } from './real-fft.js'
import { haveBuild } from '../test-support/tools.js'
import { fftArray, fftThreadStats, fftThreads, startFftThreads, stopFftThreads } from './threads.js'

function randomInto(out: Float64Array, seed: number): Float64Array {
  let state = seed
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state / 2 ** 32 - 0.5
  }
  return out
}

/** Large enough for every pass to be split (the half spectrum too is over 65536 values), with odd batch counts. */
const SHAPE: Shape3 = [64, 45, 50]
const SIZE = SHAPE[0] * SHAPE[1] * SHAPE[2]

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}

describe('FFT worker threads', () => {
  afterAll(async () => {
    await stopFftThreads()
  })

  // Single-threaded references, computed before any pool exists.
  const input = randomInto(new Float64Array(SIZE), 7)
  const spectrum = rfft3d(input, SHAPE)
  const back = irfft3d({ re: spectrum.re.slice(), im: spectrum.im.slice() }, SHAPE)
  const complexRe = input.slice()
  const complexIm = randomInto(new Float64Array(SIZE), 8)
  const imagInput = complexIm.slice()
  fft3d(complexRe, complexIm, SHAPE)

  it('rejects a thread count that is not an integer from 1 to 64', async () => {
    await expect(startFftThreads(0)).rejects.toThrow(PacsflowError)
    await expect(startFftThreads(1.5)).rejects.toThrow(/integer from 1 to 64/)
    expect(fftThreads()).toBe(1)
  })

  it('gives the same bits split across two threads as on one, for rfft3d, irfft3d and fft3d', async () => {
    expect(await startFftThreads(2)).toBe(2)
    expect(fftThreads()).toBe(2)
    const before = fftThreadStats().splitPasses

    const shared = fftArray(SIZE)
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer)
    shared.set(input)
    const parallelSpectrum = rfft3d(shared, SHAPE)
    expect(parallelSpectrum.re.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(sameBits(parallelSpectrum.re, spectrum.re)).toBe(true)
    expect(sameBits(parallelSpectrum.im, spectrum.im)).toBe(true)
    // x and y by planes, then z, forward: two split passes
    expect(fftThreadStats().splitPasses - before).toBe(2)

    const parallelBack = irfft3d(parallelSpectrum, SHAPE)
    expect(sameBits(parallelBack, back)).toBe(true)

    const re = fftArray(SIZE)
    const im = fftArray(SIZE)
    re.set(input)
    im.set(imagInput)
    fft3d(re, im, SHAPE)
    expect(sameBits(re, complexRe)).toBe(true)
    expect(sameBits(im, complexIm)).toBe(true)
    expect(fftThreadStats().splitPasses - before).toBe(2 + 2 + 3)
  })

  it('runs passes over unshared arrays, and small ones, on the calling thread with the same result', async () => {
    expect(await startFftThreads(2)).toBe(2)
    const before = fftThreadStats().splitPasses
    const re = input.slice()
    const im = imagInput.slice()
    fft3d(re, im, SHAPE)
    expect(sameBits(re, complexRe)).toBe(true)
    const small = fftArray(8 * 8 * 8)
    rfft3d(randomInto(small, 3), [8, 8, 8])
    expect(fftThreadStats().splitPasses).toBe(before)
  })

  it('is idempotent, and 1 thread stops the pool', async () => {
    expect(await startFftThreads(2)).toBe(2)
    expect(await startFftThreads(2)).toBe(2)
    expect(await startFftThreads(1)).toBe(1)
    expect(fftThreads()).toBe(1)
    expect(fftArray(4).buffer).toBeInstanceOf(ArrayBuffer)
  })

  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
  it.skipIf(!haveBuild(dist))('works from the built package (dist/fft-worker.js beside the bundle)', () => {
    const script = `
      const { fftArray, rfft3d, startFftThreads, fftThreadStats } = await import(${JSON.stringify(dist)})
      const shape = [64, 48, 48], size = 64 * 48 * 48
      const single = new Float64Array(size).map((_, i) => Math.sin(i * 0.37))
      const reference = rfft3d(single, shape)
      const threads = await startFftThreads(2)
      const shared = fftArray(size); shared.set(single)
      const parallel = rfft3d(shared, shape)
      let same = true
      for (let i = 0; i < reference.re.length; i++) if (reference.re[i] !== parallel.re[i] || reference.im[i] !== parallel.im[i]) same = false
      console.log(JSON.stringify({ threads, same, split: fftThreadStats().splitPasses }))
    `
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout.trim())).toEqual({ threads: 2, same: true, split: 2 })
  })
  it('starts from a source checkout in a process whose working directory is elsewhere (tsx found from the package)', () => {
    const source = fileURLToPath(new URL('../index.ts', import.meta.url))
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const script = `
      const { fftArray, rfft3d, startFftThreads, fftThreadStats } = await import(${JSON.stringify(source)})
      const threads = await startFftThreads(2)
      const volume = fftArray(64 * 48 * 48); volume.fill(1)
      rfft3d(volume, [64, 48, 48])
      console.log(JSON.stringify({ threads, split: fftThreadStats().splitPasses }))
    `
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, '--input-type=module', '-e', script], { cwd: tmpdir(), encoding: 'utf8', timeout: 30_000 })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout.trim())).toEqual({ threads: 2, split: 2 })
  })
})
