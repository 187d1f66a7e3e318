// The real-row passes of the real FFT (realRowsInto / inverseRealRowsFrom of real-fft.ts) as WebAssembly SIMD functions, bit-identical to the JS loops.
//
// A real row x of even length n = 2m is transformed as the complex row z_j = x_2j + i x_2j+1 of
// length m; with Z its DFT, E_k = (Z_k + conj Z_(m-k)) / 2, O_k = (Z_k - conj Z_(m-k)) / 2i and
// X_k = E_k + W^k O_k, W = exp(-2 pi i / n), k = 0..m; the inverse runs the relations backwards
// (Cooley, Lewis & Welch 1970, J Sound Vib 12:315; Press et al., Numerical Recipes, 12.3; the
// sources real-fft.ts cites). The functions below perform the operations of real-fft.ts in the
// same order and association, on f64x2 lanes (two neighbouring rows b, b+1) or scalar f64 (the
// last row of an odd batch): f64x2 add/sub/mul/neg round and sign each lane as the scalar f64
// instructions do (spec Execution: Numerics), nothing is fused, and the Stockham stages are the
// kernels of butterflies.ts with the twiddles of line-plan.ts, so every value equals the JS one.
// The row side (input rows, half-spectrum rows) is read and written in 2x2 blocks, rows b, b+1 by
// k, k+1, transposed to lanes-as-rows with i8x16.shuffle, which moves bits without touching them;
// a last single k or row goes lane by lane (extract_lane / replace_lane).
//
// Memory of one plan (byte offsets; R = capacity rows per batch, P = (m + 1) R * 8 bytes):
//   [0, 4P)        xr | xi | yr | yi: the complex rows as [m][batch] (element j of row b at j batch + b),
//                  with room for one more element: the forward copies Z_0 to Z_m so k = 0..m reads Z_k, Z_(m-k)
//   [4P, 6P)       io: forward input rows (batch n values), then output parts re | im (batch (m + 1) each,
//                  the im part at 5P); inverse input parts re | im, then output rows (batch n values)
//   [6P, 6P + 16 (m + 1))   real twiddles (cos, sin)(-2 pi k / n), k = 0..m, interleaved
//   then the stage twiddles of each radix stage, as wasm/plan.ts lays them.
import { PacsflowError } from '@pacsflow/core'
import { realTwiddles } from '../line-plan.js'
import { encodeModule, type FunctionBuilder } from './assembler.js'
import { rowFunctions, type Deinterleave, type Interleave, type PostProcess, type PreProcess } from './real-rows-code.js'
import { MEMORY_IMPORT, buildKernel, kernelName, type Kernel } from './butterflies.js'
import { stageTables, wasmPlanSupported, wasmSimdAvailable } from './plan.js'
import { webAssemblyApi, type WasmApi, type WasmModule } from './runtime.js'

/** Values per complex part a batch may hold (128 KiB): the four parts and io stay within ~1 MiB, in a core's L2. */
const BATCH_VALUES = 16384

const PAGE_BYTES = 65536

/** A JS array of real values: float32 input is widened exactly, float32 output rounded as an assignment rounds. */
export type RealArray = Float64Array | Float32Array

interface Stage {
  readonly kernel: Kernel
  readonly m: number
  readonly stride: number
  readonly twiddles: number
}

let compiled: { api: WasmApi; module: WasmModule } | undefined

/** The module (radix kernels and row functions), compiled once per thread. */
function rowsModule(): { api: WasmApi; module: WasmModule } {
  if (compiled === undefined) {
    const api = webAssemblyApi()
    if (api === undefined || !wasmSimdAvailable()) throw new PacsflowError('INVALID_OPTIONS', 'WebAssembly SIMD is not available in this runtime: use the JS real rows')
    const functions: { name: string; body: FunctionBuilder }[] = ([2, 3, 4, 5] as const).map((radix) => ({ name: kernelName(radix), body: buildKernel(radix) }))
    functions.push(...rowFunctions())
    compiled = { api, module: new api.Module(encodeModule({ memory: { ...MEMORY_IMPORT, minPages: 1 }, functions })) }
  }
  return compiled
}

/** The rows per batch of a plan for rows of n: at most BATCH_VALUES values per complex part, at least one row. */
export function realRowCapacity(n: number): number {
  return Math.max(1, Math.floor(BATCH_VALUES / (n / 2)))
}

/** True when {@link WasmRealRowPlan} takes rows of n: even, and n/2 a 2/3/5-smooth length of the WebAssembly line plan. */
export function wasmRealRowsSupported(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && n % 2 === 0 && wasmPlanSupported(n / 2)
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `WasmRealRowPlan: ${message}`)
}

function isRowRange(first: number, last: number): boolean {
  return Number.isInteger(first) && Number.isInteger(last) && first >= 0 && last >= first
}

/**
 * The forward and inverse real-row transforms of rows of even length n on one WebAssembly memory
 * (see the module comment); throws INVALID_OPTIONS unless {@link wasmRealRowsSupported}(n) and SIMD is available.
 */
export class WasmRealRowPlan {
  readonly n: number
  /** n / 2: the complex length, and the last index of a half-spectrum row (which holds m + 1 values). */
  readonly m: number
  /** Rows per batch. */
  readonly capacity: number
  private readonly stages: Stage[] = []
  /** Byte addresses: the scratch parts, io and its im part, the real twiddles. */
  private readonly part: number
  private readonly io: number
  private readonly ioIm: number
  private readonly realTwiddles: number
  /** Views on the memory: all of it (for copyWithin), io as rows, io as two parts. */
  private readonly all: Float64Array
  private readonly ioRows: Float64Array
  private readonly ioReView: Float64Array
  private readonly ioImView: Float64Array
  private readonly deinterleave: Deinterleave
  private readonly post: PostProcess
  private readonly pre: PreProcess
  private readonly interleave: Interleave

  constructor(n: number, capacity: number = realRowCapacity(n)) {
    if (!wasmRealRowsSupported(n)) throw invalid(`rows of ${n} are not of an even length whose half is a 2/3/5-smooth integer up to 2^20`)
    if (!Number.isInteger(capacity) || capacity < 1 || (n / 2 + 1) * capacity > 1 << 22) throw invalid(`a capacity of ${capacity} rows of ${n} is not an integer from 1 to ${Math.floor((1 << 22) / (n / 2 + 1))}`)
    const { api, module } = rowsModule()
    const m = n / 2
    this.n = n
    this.m = m
    this.capacity = capacity
    this.part = (m + 1) * capacity * 8
    this.io = 4 * this.part
    this.ioIm = 5 * this.part
    this.realTwiddles = 6 * this.part
    const { tables, end: at } = stageTables(m, this.realTwiddles + 16 * (m + 1))
    const memory = new api.Memory({ initial: Math.max(1, Math.ceil(at / PAGE_BYTES)) })
    const buffer = memory.buffer
    const { exports } = new api.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } })
    for (const table of tables) {
      new Float64Array(buffer, table.at, table.twiddles.length).set(table.twiddles)
      this.stages.push({ kernel: exports[kernelName(table.radix)] as Kernel, m: table.m, stride: table.stride, twiddles: table.at })
    }
    // The tables the TypeScript real rows use, interleaved, so both are equal bit for bit.
    const { twiddleRe, twiddleIm } = realTwiddles(n)
    const real = new Float64Array(buffer, this.realTwiddles, 2 * (m + 1))
    for (let k = 0; k <= m; k++) {
      real[2 * k] = twiddleRe[k] as number
      real[2 * k + 1] = twiddleIm[k] as number
    }
    this.all = new Float64Array(buffer)
    this.ioRows = new Float64Array(buffer, this.io, 2 * (m + 1) * capacity)
    this.ioReView = new Float64Array(buffer, this.io, (m + 1) * capacity)
    this.ioImView = new Float64Array(buffer, this.ioIm, (m + 1) * capacity)
    this.deinterleave = exports.deinterleave as Deinterleave
    this.post = exports.post as PostProcess
    this.pre = exports.pre as PreProcess
    this.interleave = exports.interleave as Interleave
  }

  /**
   * The half spectra (m + 1 values each) of real rows `[firstRow, lastRow)` of `input` (row r at r n),
   * written at `outOffset + (r - firstRow) (m + 1)`: realRowsInto of real-fft.ts, bit for bit.
   */
  forward(input: RealArray, firstRow: number, lastRow: number, outRe: Float64Array, outIm: Float64Array, outOffset = 0): void {
    const { n, m } = this
    const rows = lastRow - firstRow
    if (!isRowRange(firstRow, lastRow) || input.length < lastRow * n) throw invalid(`rows [${firstRow}, ${lastRow}) of ${n} do not lie in an input of ${input.length} values`)
    if (!Number.isInteger(outOffset) || outOffset < 0 || outRe.length < outOffset + rows * (m + 1) || outIm.length < outOffset + rows * (m + 1)) {
      throw invalid(`${rows} half-spectrum rows of ${m + 1} at ${outOffset} do not fit outputs of ${outRe.length} and ${outIm.length} values`)
    }
    const part = this.part
    for (let first = firstRow; first < lastRow; first += this.capacity) {
      const batch = Math.min(this.capacity, lastRow - first)
      this.ioRows.set(input.subarray(first * n, (first + batch) * n))
      this.deinterleave(this.io, 0, part, m, batch)
      const z = this.stagesFrom(batch)
      // Z_m = Z_0, so that the post-processing reads Z_(k mod m) and Z_((m - k) mod m) as Z_k and Z_(m - k).
      const zr = z / 8
      const zi = (z + part) / 8
      this.all.copyWithin(zr + m * batch, zr, zr + batch)
      this.all.copyWithin(zi + m * batch, zi, zi + batch)
      this.post(z, z + part, this.io, this.ioIm, this.realTwiddles, m, batch)
      const count = batch * (m + 1)
      const to = outOffset + (first - firstRow) * (m + 1)
      outRe.set(this.ioReView.subarray(0, count), to)
      outIm.set(this.ioImView.subarray(0, count), to)
    }
  }

  /**
   * Real rows `[firstRow, lastRow)` of `out` (row r at r n) from half-spectrum rows of m + 1 values
   * read from `from` in `re`/`im`, each value times `scale`: inverseRealRowsFrom of real-fft.ts, bit for bit.
   */
  inverse(re: Float64Array, im: Float64Array, from: number, scale: number, out: RealArray, firstRow: number, lastRow: number): void {
    const { n, m } = this
    const rows = lastRow - firstRow
    if (!isRowRange(firstRow, lastRow) || out.length < lastRow * n) throw invalid(`rows [${firstRow}, ${lastRow}) of ${n} do not lie in an output of ${out.length} values`)
    if (!Number.isInteger(from) || from < 0 || re.length < from + rows * (m + 1) || im.length < from + rows * (m + 1)) {
      throw invalid(`${rows} half-spectrum rows of ${m + 1} at ${from} do not lie in inputs of ${re.length} and ${im.length} values`)
    }
    const part = this.part
    const outScale = 1 / m
    for (let first = firstRow; first < lastRow; first += this.capacity) {
      const batch = Math.min(this.capacity, lastRow - first)
      const count = batch * (m + 1)
      const at = from + (first - firstRow) * (m + 1)
      this.ioReView.set(re.subarray(at, at + count))
      this.ioImView.set(im.subarray(at, at + count))
      this.pre(this.io, this.ioIm, 0, part, this.realTwiddles, m, batch, scale)
      const z = this.stagesFrom(batch)
      this.interleave(z, z + part, this.io, m, batch, outScale, -outScale)
      out.set(this.ioRows.subarray(0, batch * n), first * n)
    }
  }

  /** The stages on x = (xr, xi) with y as scratch, alternating as StockhamPlan does; returns the byte address of the result's real part. */
  private stagesFrom(batch: number): number {
    const part = this.part
    let flip = false
    for (const { kernel, m, stride, twiddles } of this.stages) {
      if (flip) kernel(2 * part, 3 * part, 0, part, m, stride * batch, twiddles)
      else kernel(0, part, 2 * part, 3 * part, m, stride * batch, twiddles)
      flip = !flip
    }
    return flip ? 2 * part : 0
  }
}

/** Per n: its plan, or null where the JS loops must serve. */
const plans = new Map<number, WasmRealRowPlan | null>()

/**
 * The (cached, per thread) real-row plan for rows of n, or undefined where the JS loops of
 * real-fft.ts must serve: no SIMD, an odd n, or n/2 with a prime factor above 5.
 */
export function wasmRealRowPlan(n: number): WasmRealRowPlan | undefined {
  let plan = plans.get(n)
  if (plan === undefined) {
    plan = wasmRealRowsSupported(n) && wasmSimdAvailable() ? new WasmRealRowPlan(n) : null
    plans.set(n, plan)
  }
  return plan ?? undefined
}
