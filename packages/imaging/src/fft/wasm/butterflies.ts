// The radix-2, 3, 4 and 5 Stockham stages of line-plan.ts as WebAssembly functions over f64x2 vectors, bit-identical to the JS kernels.
//
// Each stage computes, for p < m and q < sb (sb = stride * batch, span = sb * m),
//   b[q + sb (r p + u)] = w_L^(p u) * sum_t a[q + sb p + t span] * w_r^(t u)
// exactly as radix2..radix5 in line-plan.ts do (the maths and its sources are cited there). A
// butterfly is written once below as a list of named values (one per `const` of the JS kernel,
// with the same operations in the same order and association) and emitted twice: on f64x2
// vectors for two consecutive q at a time, then on scalar f64 for the last q when sb is odd.
// f64x2.add/sub/mul round each lane exactly as the scalar f64 operations do (IEEE 754
// binary64, round to nearest; spec Execution: Numerics), and nothing is fused, so every lane
// reproduces the JS double arithmetic bit for bit. The twiddles are loaded (and splatted) once
// per p, outside the loop over q.
import { encodeModule, FunctionBuilder, ValType } from './assembler.js'

/** A value held in a local (f64 or v128, depending on the lanes the body is emitted for). */
interface Value {
  readonly local: number
}
type Expr = Value | { readonly op: 'add' | 'sub' | 'mul'; readonly l: Expr; readonly r: Expr }

const add = (l: Expr, r: Expr): Expr => ({ op: 'add', l, r })
const sub = (l: Expr, r: Expr): Expr => ({ op: 'sub', l, r })
const mul = (l: Expr, r: Expr): Expr => ({ op: 'mul', l, r })

/** What a butterfly body can do; implemented once for vector lanes and once for scalar ones. */
interface Lanes {
  /** Element t of the butterfly's input (real or imaginary part): a[q + sb p + t span]. */
  load(part: 'r' | 'i', t: number): Value
  /** The twiddle w_L^(p u) of this p, part re/im. */
  twiddle(u: number, part: 'r' | 'i'): Value
  /** A constant of the radix (e.g. sqrt(3)/2), by name. */
  constant(name: string): Value
  /** A named intermediate (a `const` of the JS kernel). */
  let(e: Expr): Value
  /** b[q + sb (r p + u)] = e. */
  store(part: 'r' | 'i', u: number, e: Expr): void
}

/** Output u times its twiddle: (yr + i yi)(wr + i wi), in the JS kernels' order. */
function storeTwiddled(k: Lanes, u: number, yr: Expr, yi: Expr): void {
  const wr = k.twiddle(u, 'r')
  const wi = k.twiddle(u, 'i')
  k.store('r', u, sub(mul(yr, wr), mul(yi, wi)))
  k.store('i', u, add(mul(yr, wi), mul(yi, wr)))
}

function loadAll(k: Lanes, radix: number): { r: Value[]; i: Value[] } {
  const r: Value[] = []
  const i: Value[] = []
  for (let t = 0; t < radix; t++) {
    r.push(k.load('r', t))
    i.push(k.load('i', t))
  }
  return { r, i }
}

function radix2Body(k: Lanes): void {
  const { r: [a0r, a1r], i: [a0i, a1i] } = loadAll(k, 2) as { r: [Value, Value]; i: [Value, Value] }
  k.store('r', 0, add(a0r, a1r))
  k.store('i', 0, add(a0i, a1i))
  const dr = k.let(sub(a0r, a1r))
  const di = k.let(sub(a0i, a1i))
  storeTwiddled(k, 1, dr, di)
}

function radix3Body(k: Lanes): void {
  const { r: [a0r, a1r, a2r], i: [a0i, a1i, a2i] } = loadAll(k, 3) as { r: [Value, Value, Value]; i: [Value, Value, Value] }
  const s3 = k.constant('s3')
  const half = k.constant('half')
  const tr = k.let(add(a1r, a2r))
  const ti = k.let(add(a1i, a2i))
  const dr = k.let(mul(s3, sub(a1r, a2r)))
  const di = k.let(mul(s3, sub(a1i, a2i)))
  const cr = k.let(sub(a0r, mul(half, tr)))
  const ci = k.let(sub(a0i, mul(half, ti)))
  k.store('r', 0, add(a0r, tr))
  k.store('i', 0, add(a0i, ti))
  storeTwiddled(k, 1, k.let(add(cr, di)), k.let(sub(ci, dr)))
  storeTwiddled(k, 2, k.let(sub(cr, di)), k.let(add(ci, dr)))
}

function radix4Body(k: Lanes): void {
  const { r: [a0r, a1r, a2r, a3r], i: [a0i, a1i, a2i, a3i] } = loadAll(k, 4) as { r: [Value, Value, Value, Value]; i: [Value, Value, Value, Value] }
  const t0r = k.let(add(a0r, a2r))
  const t0i = k.let(add(a0i, a2i))
  const t1r = k.let(sub(a0r, a2r))
  const t1i = k.let(sub(a0i, a2i))
  const t2r = k.let(add(a1r, a3r))
  const t2i = k.let(add(a1i, a3i))
  const t3r = k.let(sub(a1r, a3r))
  const t3i = k.let(sub(a1i, a3i))
  k.store('r', 0, add(t0r, t2r))
  k.store('i', 0, add(t0i, t2i))
  storeTwiddled(k, 1, k.let(add(t1r, t3i)), k.let(sub(t1i, t3r)))
  storeTwiddled(k, 2, k.let(sub(t0r, t2r)), k.let(sub(t0i, t2i)))
  storeTwiddled(k, 3, k.let(sub(t1r, t3i)), k.let(add(t1i, t3r)))
}

function radix5Body(k: Lanes): void {
  const loaded = loadAll(k, 5) as { r: [Value, Value, Value, Value, Value]; i: [Value, Value, Value, Value, Value] }
  const [a0r, a1r, a2r, a3r, a4r] = loaded.r
  const [a0i, a1i, a2i, a3i, a4i] = loaded.i
  const [c1, c2, s1, s2] = [k.constant('c1'), k.constant('c2'), k.constant('s1'), k.constant('s2')]
  const b1r = k.let(add(a1r, a4r))
  const b1i = k.let(add(a1i, a4i))
  const b2r = k.let(add(a2r, a3r))
  const b2i = k.let(add(a2i, a3i))
  const d1r = k.let(sub(a1r, a4r))
  const d1i = k.let(sub(a1i, a4i))
  const d2r = k.let(sub(a2r, a3r))
  const d2i = k.let(sub(a2i, a3i))
  // JS evaluates a0r + c1 * b1r + c2 * b2r as (a0r + c1 b1r) + c2 b2r: the same association here.
  const e1r = k.let(add(add(a0r, mul(c1, b1r)), mul(c2, b2r)))
  const e1i = k.let(add(add(a0i, mul(c1, b1i)), mul(c2, b2i)))
  const e2r = k.let(add(add(a0r, mul(c2, b1r)), mul(c1, b2r)))
  const e2i = k.let(add(add(a0i, mul(c2, b1i)), mul(c1, b2i)))
  const f1r = k.let(add(mul(s1, d1r), mul(s2, d2r)))
  const f1i = k.let(add(mul(s1, d1i), mul(s2, d2i)))
  const f2r = k.let(sub(mul(s2, d1r), mul(s1, d2r)))
  const f2i = k.let(sub(mul(s2, d1i), mul(s1, d2i)))
  k.store('r', 0, add(add(a0r, b1r), b2r))
  k.store('i', 0, add(add(a0i, b1i), b2i))
  storeTwiddled(k, 1, k.let(add(e1r, f1i)), k.let(sub(e1i, f1r)))
  storeTwiddled(k, 2, k.let(add(e2r, f2i)), k.let(sub(e2i, f2r)))
  storeTwiddled(k, 3, k.let(sub(e2r, f2i)), k.let(add(e2i, f2r)))
  storeTwiddled(k, 4, k.let(sub(e1r, f1i)), k.let(add(e1i, f1r)))
}

/** Per radix: its butterfly and its constants, computed by the same expressions as the JS kernels. */
const RADICES = {
  2: { body: radix2Body, constants: {} },
  3: { body: radix3Body, constants: { s3: Math.sqrt(3) / 2, half: 0.5 } },
  4: { body: radix4Body, constants: {} },
  5: {
    body: radix5Body,
    constants: {
      c1: Math.cos((2 * Math.PI) / 5),
      c2: Math.cos((4 * Math.PI) / 5),
      s1: Math.sin((2 * Math.PI) / 5),
      s2: Math.sin((4 * Math.PI) / 5),
    },
  },
} as const satisfies Record<number, { body: (k: Lanes) => void; constants: Record<string, number> }>

/** The radices with a WebAssembly kernel. */
export type KernelRadix = keyof typeof RADICES
export const KERNEL_RADICES: readonly KernelRadix[] = [2, 3, 4, 5]

/** The kernels' parameters, all i32 byte addresses or counts: (ar, ai, br, bi, m, sb, tw). */
const KERNEL_PARAMS: readonly ValType[] = [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32]
const [AR, AI, BR, BI, M, SB, TW] = [0, 1, 2, 3, 4, 5, 6]

/** A kernel's exported name. */
export function kernelName(radix: KernelRadix): string {
  return `radix${radix}`
}

/** Signature of an exported kernel: byte addresses of the input and output parts, m, sb, and the twiddles' address. */
export type Kernel = (ar: number, ai: number, br: number, bi: number, m: number, sb: number, tw: number) => void

/** Where the kernels module imports its memory from. */
export const MEMORY_IMPORT = { module: 'env', name: 'memory' } as const

/** The module exporting one kernel per radix, over an imported memory of at least one page. */
export function kernelModuleBytes(): Uint8Array {
  return encodeModule({
    memory: { ...MEMORY_IMPORT, minPages: 1 },
    functions: KERNEL_RADICES.map((radix) => ({ name: kernelName(radix), body: buildKernel(radix) })),
  })
}

/** The i32 locals that walk the buffers (shared by the vector loop and its scalar tail). */
interface Cursors {
  /** Read cursors into the input's real and imaginary parts, write cursors into the output's. */
  readonly pa: number
  readonly pai: number
  readonly pb: number
  readonly pbi: number
  /** t * span and u * sb in bytes, for t, u = 1..r-1 (index 0 unused). */
  readonly spans: readonly number[]
  readonly strides: readonly number[]
}

/** The kernel function of one radix: set-up of strides and cursors, then the loops of {@link emitLoops}. */
export function buildKernel(radix: KernelRadix): FunctionBuilder {
  const { body, constants } = RADICES[radix]
  const f = new FunctionBuilder(KERNEL_PARAMS)
  const i32 = (): number => f.local(ValType.i32)
  // spans[t] = t * sb * m * 8 and strides[u] = u * sb * 8 bytes.
  const spans = [0]
  const strides = [0]
  for (let t = 1; t < radix; t++) {
    const span = i32()
    f.get(SB).get(M).op('i32Mul').i32Const(8 * t).op('i32Mul').set(span)
    spans.push(span)
    const stride = i32()
    f.get(SB).i32Const(8 * t).op('i32Mul').set(stride)
    strides.push(stride)
  }
  const cursors: Cursors = { pa: i32(), pai: i32(), pb: i32(), pbi: i32(), spans, strides }
  const [twp, twEnd, vecEnd, rowEnd] = [i32(), i32(), i32(), i32()]
  f.get(AR).set(cursors.pa).get(AI).set(cursors.pai).get(BR).set(cursors.pb).get(BI).set(cursors.pbi)
  f.get(TW).set(twp)
  f.get(TW).get(M).i32Const((radix - 1) * 16).op('i32Mul').op('i32Add').set(twEnd)
  const scalar = new LaneEmitter(f, 'scalar', radix, cursors, twp, constants)
  const vector = new LaneEmitter(f, 'vector', radix, cursors, twp, constants)
  emitLoops(f, radix, cursors, { twp, twEnd, vecEnd, rowEnd }, { scalar, vector }, body)
  return f
}

/**
 * for p < m (twp walks the twiddles):
 *   load the twiddles of p; vector body for q = 0, 2, .. < sb - 1; scalar body for q = sb - 1 if sb is odd;
 *   move the write cursors from the end of output 0 to the start of the next p's outputs.
 */
function emitLoops(
  f: FunctionBuilder,
  radix: number,
  c: Cursors,
  l: { twp: number; twEnd: number; vecEnd: number; rowEnd: number },
  lanes: { scalar: LaneEmitter; vector: LaneEmitter },
  body: (k: Lanes) => void,
): void {
  const advance = (bytes: number): void => {
    for (const cursor of [c.pa, c.pai, c.pb, c.pbi]) f.get(cursor).i32Const(bytes).op('i32Add').set(cursor)
  }
  const sbBytes = c.strides[1] as number
  f.block().loop()
  f.get(l.twp).get(l.twEnd).op('i32GeU').brIf(1)
  lanes.scalar.loadTwiddles()
  lanes.vector.splatTwiddles(lanes.scalar)
  // The vector loop covers the largest even count of q: sb * 8 bytes rounded down to 16.
  f.get(c.pa).get(sbBytes).i32Const(-16).op('i32And').op('i32Add').set(l.vecEnd)
  f.get(c.pa).get(sbBytes).op('i32Add').set(l.rowEnd)
  f.block().get(c.pa).get(l.vecEnd).op('i32GeU').brIf(0)
  f.loop()
  body(lanes.vector)
  advance(16)
  f.get(c.pa).get(l.vecEnd).op('i32LtU').brIf(0)
  f.end().end()
  f.block().get(c.pa).get(l.rowEnd).op('i32GeU').brIf(0)
  body(lanes.scalar)
  advance(8)
  f.end()
  // Output p + 1 starts r sb after output p; the write cursors stand at sb after it.
  const jump = c.strides[radix - 1] as number
  for (const cursor of [c.pb, c.pbi]) f.get(cursor).get(jump).op('i32Add').set(cursor)
  f.get(l.twp).i32Const((radix - 1) * 16).op('i32Add').set(l.twp)
  f.br(0).end().end()
}

/** Emits a butterfly body on either vector (f64x2) or scalar (f64) lanes. */
class LaneEmitter implements Lanes {
  private readonly type: ValType
  private readonly constants = new Map<string, Value>()
  /** [u - 1][0: re, 1: im]: the locals holding w_L^(p u), u = 1..r-1. */
  readonly twiddles: [Value, Value][] = []

  constructor(
    private readonly f: FunctionBuilder,
    private readonly lanes: 'vector' | 'scalar',
    radix: number,
    private readonly c: Cursors,
    private readonly twp: number,
    constants: Readonly<Record<string, number>>,
  ) {
    this.type = lanes === 'vector' ? ValType.v128 : ValType.f64
    for (let u = 1; u < radix; u++) this.twiddles.push([{ local: f.local(this.type) }, { local: f.local(this.type) }])
    // Constants are materialised once, at function entry, as locals.
    for (const [name, value] of Object.entries(constants)) {
      const local = f.local(this.type)
      f.f64Const(value)
      if (lanes === 'vector') f.simd('f64x2Splat')
      f.set(local)
      this.constants.set(name, { local })
    }
  }

  /** Scalar lanes: read w_L^(p u) for u = 1..r-1 from the twiddle cursor (layout of line-plan.ts). */
  loadTwiddles(): void {
    for (const [index, [re, im]] of this.twiddles.entries()) {
      this.f.get(this.twp).f64Load(index * 16).set(re.local)
      this.f.get(this.twp).f64Load(index * 16 + 8).set(im.local)
    }
  }

  /** Vector lanes: splat the scalar twiddles just loaded. */
  splatTwiddles(scalar: LaneEmitter): void {
    for (const [index, pair] of this.twiddles.entries()) {
      const from = scalar.twiddles[index] as [Value, Value]
      for (const part of [0, 1] as const) this.f.get(from[part].local).simd('f64x2Splat').set(pair[part].local)
    }
  }

  load(part: 'r' | 'i', t: number): Value {
    this.f.get(part === 'r' ? this.c.pa : this.c.pai)
    if (t > 0) this.f.get(this.c.spans[t] as number).op('i32Add')
    if (this.lanes === 'vector') this.f.v128Load()
    else this.f.f64Load()
    const local = this.f.local(this.type)
    this.f.set(local)
    return { local }
  }

  twiddle(u: number, part: 'r' | 'i'): Value {
    return (this.twiddles[u - 1] as [Value, Value])[part === 'r' ? 0 : 1]
  }

  constant(name: string): Value {
    const value = this.constants.get(name)
    if (value === undefined) throw new Error(`butterflies: no constant ${name}`)
    return value
  }

  let(e: Expr): Value {
    this.emit(e)
    const local = this.f.local(this.type)
    this.f.set(local)
    return { local }
  }

  store(part: 'r' | 'i', u: number, e: Expr): void {
    this.f.get(part === 'r' ? this.c.pb : this.c.pbi)
    if (u > 0) this.f.get(this.c.strides[u] as number).op('i32Add')
    this.emit(e)
    if (this.lanes === 'vector') this.f.v128Store()
    else this.f.f64Store()
  }

  /** Post-order: both operands, then the operation, so the tree's shape is the evaluation's. */
  private emit(e: Expr): void {
    if ('local' in e) {
      this.f.get(e.local)
      return
    }
    this.emit(e.l)
    this.emit(e.r)
    if (this.lanes === 'vector') this.f.simd(e.op === 'add' ? 'f64x2Add' : e.op === 'sub' ? 'f64x2Sub' : 'f64x2Mul')
    else this.f.op(e.op === 'add' ? 'f64Add' : e.op === 'sub' ? 'f64Sub' : 'f64Mul')
  }
}
