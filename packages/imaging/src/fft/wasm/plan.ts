// A LinePlan whose Stockham stages run as WebAssembly SIMD kernels on its own memory; results bit-identical to linePlan(n) from line-plan.ts.
//
// One plan per length n owns one WebAssembly.Memory laid out as
//   [xr | xi | yr | yi | stage twiddles],  each part n * capacity float64 (capacity MAX_BATCH unless asked),
// and exposes the four parts as Float64Array views (`scratch()`). The caller gathers lines into
// those views and calls `transform` on them: the kernels then read and write the memory in
// place, with no copy. Arrays that are not on the plan's memory are copied in and out (a
// drop-in LinePlan, slower); a mix of the two, or views that overlap, is refused with
// INVALID_OPTIONS. The memory never grows, so the views stay valid for the plan's life.
// Results equal the JS plan's bit for bit, signed zeros included; only the payload bits of a NaN
// may differ (the spec leaves NaN propagation nondeterministic, Execution: Numerics: NaN Propagation).
import { PacsflowError } from '@pacsflow/core'
import { factorize, stageTwiddles, type LinePlan } from '../line-plan.js'
import { FunctionBuilder, ValType, encodeModule } from './assembler.js'
import { MEMORY_IMPORT, kernelModuleBytes, kernelName, type Kernel, type KernelRadix } from './butterflies.js'
import { webAssemblyApi, type WasmApi, type WasmMemory, type WasmModule } from './runtime.js'

/** Lines per transform, as fft3d.ts batches them: the scratch parts of a {@link wasmLinePlan} hold n * MAX_BATCH values. */
export const MAX_BATCH = 16

/** Most values a scratch part of a {@link wasmPlanePlan} holds (8 MiB per part). */
const MAX_PLANE_VALUES = 1 << 20

/** Longest line a plan takes: keeps every byte address well inside the kernels' i32 range. */
const MAX_LENGTH = 1 << 20

const PAGE_BYTES = 65536

/** The four scratch parts of a plan, views on its memory. */
export interface WasmScratch {
  readonly xr: Float64Array
  readonly xi: Float64Array
  readonly yr: Float64Array
  readonly yi: Float64Array
}

interface WasmStage {
  readonly kernel: Kernel
  /** m = L / r: the butterflies per stage per q. */
  readonly m: number
  readonly stride: number
  /** Byte address of the stage's twiddles in the plan's memory. */
  readonly twiddles: number
}

/** True when the plan takes length n: a positive integer up to 2^20 whose prime factors are 2, 3 and 5 (the kernels' radices). */
export function wasmPlanSupported(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_LENGTH && factorize(n).every((radix) => radix <= 5)
}

let simd: boolean | undefined

/** Whether this runtime has WebAssembly with 128-bit SIMD (checked once, by validating a tiny module); if not, use the JS plan. */
export function wasmSimdAvailable(): boolean {
  if (simd === undefined) {
    const api = webAssemblyApi()
    // (func (result f64) f64.const 1 f64x2.splat f64x2.extract_lane 1)
    const probe = new FunctionBuilder([], [ValType.f64]).f64Const(1).simd('f64x2Splat').f64x2ExtractLane(1)
    simd = api !== undefined && api.validate(encodeModule({ functions: [{ name: 'probe', body: probe }] }))
  }
  return simd
}

let compiled: { api: WasmApi; module: WasmModule } | undefined

/** The kernels module, built and compiled on first use, once per thread (it is a few kilobytes: synchronous compilation is fine). */
function kernelsModule(): { api: WasmApi; module: WasmModule } {
  if (compiled === undefined) {
    const api = webAssemblyApi()
    if (api === undefined || !wasmSimdAvailable()) throw new PacsflowError('INVALID_OPTIONS', 'WebAssembly SIMD is not available in this runtime: use the JS line plan')
    compiled = { api, module: new api.Module(kernelModuleBytes()) }
  }
  return compiled
}

/** One Stockham stage's twiddles and where they go in a plan's memory. */
export interface StageTable {
  readonly radix: KernelRadix
  /** L / r: the butterflies per stage per q. */
  readonly m: number
  readonly stride: number
  readonly twiddles: Float64Array
  /** Byte address of the twiddles. */
  readonly at: number
}

/**
 * The stages of a forward transform of length n (radices of `factorize`, twiddles of `stageTwiddles`,
 * as the JS plan has them), their twiddles laid out one after another from byte address `from`;
 * `end` is the first byte after them.
 */
export function stageTables(n: number, from: number): { tables: StageTable[]; end: number } {
  const tables: StageTable[] = []
  let at = from
  let length = n
  let stride = 1
  for (const radix of factorize(n) as KernelRadix[]) {
    const twiddles = stageTwiddles(radix, length)
    tables.push({ radix, m: length / radix, stride, twiddles, at })
    at += twiddles.byteLength
    length /= radix
    stride *= radix
  }
  return { tables, end: at }
}

/** Whether two views of `bytes` bytes at these offsets do not overlap (a module function: a closure in the hot path costs a call to esbuild's __name under tsx). */
function apart(x: number, y: number, bytes: number): boolean {
  return Math.abs(x - y) >= bytes
}

/**
 * A forward FFT plan of length n (see the module comment) for up to `capacity` lines at once (default
 * MAX_BATCH); throws INVALID_OPTIONS unless {@link wasmPlanSupported}(n) and {@link wasmSimdAvailable}().
 */
export class WasmStockhamPlan implements LinePlan {
  readonly n: number
  /** Most lines one transform takes: the scratch parts hold n * capacity values. */
  readonly capacity: number
  private readonly memory: WasmMemory
  /** memory.buffer, read once: the getter is a slow API call, and the memory never grows so the buffer never changes. */
  private readonly buffer: ArrayBuffer
  private readonly views: WasmScratch
  private readonly stages: WasmStage[] = []
  /** Bytes of one scratch part. */
  private readonly partBytes: number

  constructor(n: number, capacity: number = MAX_BATCH) {
    if (!wasmPlanSupported(n)) throw new PacsflowError('INVALID_OPTIONS', `WasmStockhamPlan: length ${n} is not a positive 2/3/5-smooth integer up to ${MAX_LENGTH}`)
    if (!Number.isInteger(capacity) || capacity < 1 || n * capacity > MAX_PLANE_VALUES) {
      throw new PacsflowError('INVALID_OPTIONS', `WasmStockhamPlan: a capacity of ${capacity} lines of ${n} is not an integer from 1 to ${Math.floor(MAX_PLANE_VALUES / n)}`)
    }
    const { api, module } = kernelsModule()
    this.n = n
    this.capacity = capacity
    this.partBytes = n * capacity * 8
    const { tables, end: at } = stageTables(n, 4 * this.partBytes)
    this.memory = new api.Memory({ initial: Math.max(1, Math.ceil(at / PAGE_BYTES)) })
    this.buffer = this.memory.buffer
    const { exports } = new api.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: this.memory } })
    for (const table of tables) {
      new Float64Array(this.buffer, table.at, table.twiddles.length).set(table.twiddles)
      this.stages.push({ kernel: exports[kernelName(table.radix)] as Kernel, m: table.m, stride: table.stride, twiddles: table.at })
    }
    const part = (index: number): Float64Array => new Float64Array(this.buffer, index * this.partBytes, n * capacity)
    this.views = { xr: part(0), xi: part(1), yr: part(2), yi: part(3) }
  }

  /** The plan's scratch: gather lines into `xr`/`xi` as `[n][batch]` and pass these four views to {@link transform}. */
  scratch(): WasmScratch {
    return this.views
  }

  /**
   * Transforms `batch` (1..capacity) interleaved lines held in `(xr, xi)`, with `(yr, yi)` as
   * scratch; returns which pair holds the result (0: x, 1: y), as StockhamPlan does. Views on the
   * plan's memory run in place; other arrays are copied in and out.
   */
  transform(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, batch: number): 0 | 1 {
    // The checks allocate nothing: for short lines they would otherwise cost as much as the butterflies.
    if (!Number.isInteger(batch) || batch < 1 || batch > this.capacity) {
      throw new PacsflowError('INVALID_OPTIONS', `WasmStockhamPlan: batch must be an integer from 1 to ${this.capacity}, got ${batch}`)
    }
    const views = this.views
    const part = this.partBytes
    // The usual call passes the scratch views themselves: no getter to read, nothing to check.
    if (xr === views.xr && xi === views.xi && yr === views.yr && yi === views.yi) return this.run(0, part, 2 * part, 3 * part, batch)
    if (xr === views.yr && xi === views.yi && yr === views.xr && yi === views.xi) return this.run(2 * part, 3 * part, 0, part, batch)
    const size = this.n * batch
    if (xr.length < size || xi.length < size || yr.length < size || yi.length < size) {
      throw new PacsflowError('INVALID_OPTIONS', `WasmStockhamPlan: ${batch} lines of ${this.n} need arrays of ${size} values`)
    }
    const buffer = this.buffer
    const onMemory = Number(xr.buffer === buffer) + Number(xi.buffer === buffer) + Number(yr.buffer === buffer) + Number(yi.buffer === buffer)
    if (onMemory === 4) {
      this.checkViews(xr.byteOffset, xi.byteOffset, yr.byteOffset, yi.byteOffset, size * 8)
      return this.run(xr.byteOffset, xi.byteOffset, yr.byteOffset, yi.byteOffset, batch)
    }
    if (onMemory > 0) {
      throw new PacsflowError('INVALID_OPTIONS', 'WasmStockhamPlan: pass either all four scratch() views or four arrays off the plan memory, not a mix')
    }
    return this.copyThrough([xr, xi, yr, yi], size, batch)
  }

  /** Views on the memory (at these byte offsets, `bytes` long each) must lie in the scratch parts, not the twiddles, and not overlap. */
  private checkViews(a: number, b: number, c: number, d: number, bytes: number): void {
    const limit = 4 * this.partBytes - bytes
    if (a > limit || b > limit || c > limit || d > limit) throw new PacsflowError('INVALID_OPTIONS', 'WasmStockhamPlan: a view reaches past the scratch into the twiddles')
    if (!(apart(a, b, bytes) && apart(a, c, bytes) && apart(a, d, bytes) && apart(b, c, bytes) && apart(b, d, bytes) && apart(c, d, bytes))) {
      throw new PacsflowError('INVALID_OPTIONS', 'WasmStockhamPlan: two of the views passed overlap')
    }
  }

  /** The drop-in path for arrays off the memory: copy x in, transform in the scratch, copy the result out. */
  private copyThrough(arrays: readonly [Float64Array, Float64Array, Float64Array, Float64Array], size: number, batch: number): 0 | 1 {
    if (this.stages.length === 0) return 0
    const { xr, xi, yr, yi } = this.views
    xr.set(arrays[0].subarray(0, size))
    xi.set(arrays[1].subarray(0, size))
    const where = this.run(xr.byteOffset, xi.byteOffset, yr.byteOffset, yi.byteOffset, batch)
    const [resultRe, resultIm] = where === 0 ? [xr, xi] : [yr, yi]
    arrays[where * 2]?.set(resultRe.subarray(0, size))
    arrays[where * 2 + 1]?.set(resultIm.subarray(0, size))
    return where
  }

  /** The stages, alternating between the two buffers (byte addresses) as StockhamPlan.transform does. */
  private run(xr: number, xi: number, yr: number, yi: number, batch: number): 0 | 1 {
    let flip = false
    for (const { kernel, m, stride, twiddles } of this.stages) {
      const sb = stride * batch
      if (flip) kernel(yr, yi, xr, xi, m, sb, twiddles)
      else kernel(xr, xi, yr, yi, m, sb, twiddles)
      flip = !flip
    }
    return flip ? 1 : 0
  }
}

/** Per length: its plan, or null where the JS plan must serve. */
const plans = new Map<number, WasmStockhamPlan | null>()

/**
 * The (cached, per thread) WebAssembly plan for length n, or undefined where the JS plan must serve
 * (no SIMD, or a factor above 5). The answer is cached either way: the FFT asks once per chunk of a pass.
 */
export function wasmLinePlan(n: number): WasmStockhamPlan | undefined {
  let plan = plans.get(n)
  if (plan === undefined) {
    plan = wasmPlanSupported(n) && wasmSimdAvailable() ? new WasmStockhamPlan(n) : null
    plans.set(n, plan)
  }
  return plan ?? undefined
}

/** Per length and capacity: the plane plan, or null where the JS plan must serve. */
const planePlans = new Map<string, WasmStockhamPlan | null>()

/**
 * A (cached, per thread) WebAssembly plan of length n whose scratch holds `capacity` lines at once,
 * e.g. every line along y of a plane of a volume, or undefined where the JS plan must serve (no SIMD,
 * a factor above 5, or more than 2^20 values per part). Its own memory: a {@link wasmLinePlan} of
 * the same length may run while this plan's scratch holds data.
 */
export function wasmPlanePlan(n: number, capacity: number): WasmStockhamPlan | undefined {
  const key = `${n}x${capacity}`
  let plan = planePlans.get(key)
  if (plan === undefined) {
    plan = wasmPlanSupported(n) && wasmSimdAvailable() && Number.isInteger(capacity) && capacity >= 1 && n * capacity <= MAX_PLANE_VALUES ? new WasmStockhamPlan(n, capacity) : null
    planePlans.set(key, plan)
  }
  return plan ?? undefined
}
