// PACSFLOW_FFT_WASM=0 keeps the TypeScript plans, and whole 3D transforms come out bit-identical either way.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fft3d, planAndScratch } from '../fft3d.js'
import { irfft3d, rfft3d } from '../real-fft.js'
import { wasmSimdAvailable } from './plan.js'

/** The digest of rfft3d, irfft3d and fft3d outputs on a fixed volume, and the plan class each length gets. */
const SCRIPT = (fft3dPath: string, realPath: string): string => `
  const { fft3d, planAndScratch } = await import(${JSON.stringify(fft3dPath)})
  const { rfft3d, irfft3d } = await import(${JSON.stringify(realPath)})
  const { createHash } = await import('node:crypto')
  ${body.toString()}
  console.log(JSON.stringify(body(fft3d, planAndScratch, rfft3d, irfft3d, createHash)))
`

function body(fft: typeof fft3d, plans: typeof planAndScratch, forward: typeof rfft3d, inverse: typeof irfft3d, hash: typeof createHash) {
  const shape = [30, 24, 20] as const
  const size = shape[0] * shape[1] * shape[2]
  const input = new Float64Array(size).map((_, i) => Math.sin(i * 0.37) + (i % 7) * 0.25)
  const spectrum = forward(input, shape)
  const digest = hash('sha256').update(new Uint8Array(spectrum.re.buffer)).update(new Uint8Array(spectrum.im.buffer))
  digest.update(new Uint8Array(inverse(spectrum, shape).buffer))
  const re = Float64Array.from(input)
  const im = new Float64Array(size).map((_, i) => Math.cos(i * 0.11))
  fft(re, im, shape)
  digest.update(new Uint8Array(re.buffer)).update(new Uint8Array(im.buffer))
  return { digest: digest.digest('hex'), plans: [15, 24, 20, 30].map((n) => plans(n).plan.constructor.name) }
}

describe('PACSFLOW_FFT_WASM', () => {
  it('0 keeps the TypeScript plans; the transforms are bit-identical to the WebAssembly ones', () => {
    // Every Node the SDK supports (>= 22.13) has WebAssembly SIMD: without it this test fails, not skips.
    expect(wasmSimdAvailable()).toBe(true)
    const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, '--input-type=module', '-e', SCRIPT(here('../fft3d.ts'), here('../real-fft.ts'))], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PACSFLOW_FFT_WASM: '0' },
    })
    expect(run.stderr).toBe('')
    const typescript = JSON.parse(run.stdout.trim()) as ReturnType<typeof body>
    const wasm = body(fft3d, planAndScratch, rfft3d, irfft3d, createHash)
    expect(typescript.plans).toEqual(['StockhamPlan', 'StockhamPlan', 'StockhamPlan', 'StockhamPlan'])
    expect(wasm.plans).toEqual(['WasmStockhamPlan', 'WasmStockhamPlan', 'WasmStockhamPlan', 'WasmStockhamPlan'])
    expect(wasm.digest).toBe(typescript.digest)
  })
})
