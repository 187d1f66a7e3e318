// The row functions of the real-row module (de-interleave, post, pre, interleave) emitted as WebAssembly: the code generation behind real-rows.ts, whose comment gives the maths, the exactness argument and the memory layout.
import { FunctionBuilder, ValType } from './assembler.js'

/** A value in a local, or an operation on values: emitted in post-order, so the tree's shape is the evaluation's. */
interface Value {
  readonly local: number
}
type Node = Value | { readonly op: 'add' | 'sub' | 'mul'; readonly l: Node; readonly r: Node } | { readonly op: 'neg'; readonly a: Node }
const add = (l: Node, r: Node): Node => ({ op: 'add', l, r })
const sub = (l: Node, r: Node): Node => ({ op: 'sub', l, r })
const mul = (l: Node, r: Node): Node => ({ op: 'mul', l, r })
const neg = (a: Node): Node => ({ op: 'neg', a })

/** Shuffles of two f64x2 (a, b): (a0, b0) and (a1, b1), the 2x2 transpose of rows (a, b). */
const LOW_LANES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
const HIGH_LANES = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]

/** An address pushed on the stack: local + local (+ local). */
type Address = readonly number[]

/** Emits row arithmetic on f64x2 lanes (rows b, b + 1) or on scalar f64 (row b). */
class Lanes {
  private readonly type: ValType

  constructor(
    private readonly f: FunctionBuilder,
    readonly vector: boolean,
  ) {
    this.type = vector ? ValType.v128 : ValType.f64
  }

  private push(address: Address): void {
    for (const [index, local] of address.entries()) {
      this.f.get(local)
      if (index > 0) this.f.op('i32Add')
    }
  }

  /** A new local set to the value on the stack. */
  private keep(): Value {
    const local = this.f.local(this.type)
    this.f.set(local)
    return { local }
  }

  /** An f64 local as a value of these lanes (splatted for vectors). */
  scalar(local: number): Value {
    if (!this.vector) return { local }
    this.f.get(local).simd('f64x2Splat')
    return this.keep()
  }

  /** The shuffle of two vectors (vector lanes only): see LOW_LANES, HIGH_LANES. */
  shuffle(a: Value, b: Value, lanes: readonly number[]): Value {
    this.f.get(a.local).get(b.local).i8x16Shuffle(lanes)
    return this.keep()
  }

  /** Stores the shuffle of two vectors at `address`. */
  storeShuffled(address: Address, a: Value, b: Value, lanes: readonly number[]): void {
    this.push(address)
    this.f.get(a.local).get(b.local).i8x16Shuffle(lanes).v128Store()
  }

  /** The f64 at `address + offset`, in every lane. */
  loadSplat(address: number, offset: number): Value {
    this.f.get(address)
    if (this.vector) this.f.v128Load64Splat(offset)
    else this.f.f64Load(offset)
    return this.keep()
  }

  /** The values of both rows at `address` (contiguous: [k][batch] layout). */
  load(address: Address): Value {
    this.push(address)
    if (this.vector) this.f.v128Load()
    else this.f.f64Load()
    return this.keep()
  }

  /** Row b's value at `at`, row b + 1's at `at + next` (row layout). */
  gather(at: Address, next: number): Value {
    this.push(at)
    this.f.f64Load()
    if (this.vector) {
      this.f.simd('f64x2Splat')
      this.push([...at, next])
      this.f.f64Load().f64x2ReplaceLane(1)
    }
    return this.keep()
  }

  let(e: Node): Value {
    this.emit(e)
    return this.keep()
  }

  store(address: Address, e: Node): void {
    this.push(address)
    this.emit(e)
    if (this.vector) this.f.v128Store()
    else this.f.f64Store()
  }

  /** Row b's lane to `at`, row b + 1's to `at + next`. */
  scatter(at: Address, next: number, e: Node): void {
    if (!this.vector) {
      this.store(at, e)
      return
    }
    const value = this.let(e)
    this.push(at)
    this.f.get(value.local).f64x2ExtractLane(0).f64Store()
    this.push([...at, next])
    this.f.get(value.local).f64x2ExtractLane(1).f64Store()
  }

  private emit(e: Node): void {
    if ('local' in e) {
      this.f.get(e.local)
    } else if (e.op === 'neg') {
      this.emit(e.a)
      if (this.vector) this.f.simd('f64x2Neg')
      else this.f.op('f64Neg')
    } else {
      this.emit(e.l)
      this.emit(e.r)
      if (this.vector) this.f.simd(e.op === 'add' ? 'f64x2Add' : e.op === 'sub' ? 'f64x2Sub' : 'f64x2Mul')
      else this.f.op(e.op === 'add' ? 'f64Add' : e.op === 'sub' ? 'f64Sub' : 'f64Mul')
    }
  }
}

/** A function's helpers: i32 locals, `local = a op b`, and a loop while `cursor < end` (unsigned). */
class Emitter {
  readonly vector: Lanes
  readonly scalar: Lanes

  constructor(readonly f: FunctionBuilder) {
    this.vector = new Lanes(f, true)
    this.scalar = new Lanes(f, false)
  }

  /** A new i32 local set to the sum of these locals and constant. */
  sum(locals: readonly number[], constant = 0): number {
    const local = this.f.local(ValType.i32)
    this.assignSum(local, locals, constant)
    return local
  }

  assignSum(local: number, locals: readonly number[], constant = 0): void {
    for (const [index, term] of locals.entries()) {
      this.f.get(term)
      if (index > 0) this.f.op('i32Add')
    }
    if (locals.length === 0) this.f.i32Const(constant)
    else if (constant !== 0) this.f.i32Const(constant).op('i32Add')
    this.f.set(local)
  }

  /** A new i32 local = a * constant (then & mask). */
  times(a: number, constant: number, mask?: number): number {
    const local = this.f.local(ValType.i32)
    this.f.get(a).i32Const(constant).op('i32Mul')
    if (mask !== undefined) this.f.i32Const(mask).op('i32And')
    this.f.set(local)
    return local
  }

  /** local -= other. */
  decrease(local: number, other: number): void {
    this.f.get(local).get(other).op('i32Sub').set(local)
  }

  /** while (cursor < end) body(). */
  loop(cursor: number, end: number, body: () => void): void {
    this.f.block().loop()
    this.f.get(cursor).get(end).op('i32GeU').brIf(1)
    body()
    this.f.br(0).end().end()
  }

  /** if (cursor < end) body(). */
  when(cursor: number, end: number, body: () => void): void {
    this.f.block()
    this.f.get(cursor).get(end).op('i32GeU').brIf(0)
    body()
    this.f.end()
  }

  f64Local(value: number): number {
    const local = this.f.local(ValType.f64)
    this.f.f64Const(value).set(local)
    return local
  }
}

const I32 = ValType.i32
const F64 = ValType.f64

/** (src, xr, xi, m, batch): rows of 2m reals at src to z_j = x_2j + i x_2j+1 as [m][batch] in (xr, xi). */
export type Deinterleave = (src: number, xr: number, xi: number, m: number, batch: number) => void

function buildDeinterleave(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32])
  const [SRC, XR, XI, M, BATCH] = [0, 1, 2, 3, 4]
  const e = new Emitter(f)
  const rowBytes = e.times(M, 16)
  const twoRows = e.times(M, 32)
  const col = e.times(BATCH, 8)
  const vecEnd = e.times(BATCH, 8, -16)
  const row = e.sum([SRC])
  const b = e.sum([], 0)
  const [s, sEnd, pr, pi] = [e.sum([]), e.sum([]), e.sum([]), e.sum([])]
  const start = (): void => {
    e.assignSum(s, [row])
    e.assignSum(sEnd, [row, rowBytes])
    e.assignSum(pr, [XR, b])
    e.assignSum(pi, [XI, b])
  }
  const step = (): void => {
    e.assignSum(s, [s], 16)
    e.assignSum(pr, [pr, col])
    e.assignSum(pi, [pi, col])
  }
  // Two rows at a time: (x_2j, x_2j+1) of rows b and b + 1, transposed into (re_b, re_b+1) and (im_b, im_b+1).
  e.loop(b, vecEnd, () => {
    start()
    e.loop(s, sEnd, () => {
      const v0 = f.local(ValType.v128)
      const v1 = f.local(ValType.v128)
      f.get(s).v128Load().set(v0)
      f.get(s).get(rowBytes).op('i32Add').v128Load().set(v1)
      f.get(pr).get(v0).get(v1).i8x16Shuffle(LOW_LANES).v128Store()
      f.get(pi).get(v0).get(v1).i8x16Shuffle(HIGH_LANES).v128Store()
      step()
    })
    e.assignSum(row, [row, twoRows])
    e.assignSum(b, [b], 16)
  })
  e.when(b, col, () => {
    start()
    e.loop(s, sEnd, () => {
      f.get(pr).get(s).f64Load().f64Store()
      f.get(pi).get(s).f64Load(8).f64Store()
      step()
    })
  })
  return f
}

/** (zr, zi, outRe, outIm, tw, m, batch): Z as [m + 1][batch] (Z_m = Z_0) to half-spectrum rows of m + 1 at (outRe, outIm). */
export type PostProcess = (zr: number, zi: number, outRe: number, outIm: number, tw: number, m: number, batch: number) => void

/** X_k of realRowsInto (real-fft.ts), line by line, from Z_k at `a` and Z_(m-k) at `c` (real parts; imaginary at + dz), W^k at tw + offset. */
function postValue(k: Lanes, c: { a: number; c: number; dz: number; tw: number; offset: number; half: Value; minusHalf: Value }): [Node, Node] {
  const ar = k.load([c.a])
  const ai = k.load([c.a, c.dz])
  const cr = k.load([c.c])
  const ci = k.let(neg(k.load([c.c, c.dz])))
  const er = k.let(mul(c.half, add(ar, cr)))
  const ei = k.let(mul(c.half, add(ai, ci)))
  // O = (Z_k - conj Z_(M-k)) / 2i
  const or = k.let(mul(c.half, sub(ai, ci)))
  const oi = k.let(mul(c.minusHalf, sub(ar, cr)))
  const wr = k.loadSplat(c.tw, c.offset)
  const wi = k.loadSplat(c.tw, c.offset + 8)
  return [sub(add(er, mul(or, wr)), mul(oi, wi)), add(add(ei, mul(or, wi)), mul(oi, wr))]
}

function buildPost(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32])
  const [ZR, ZI, OUT_RE, OUT_IM, TW, M, BATCH] = [0, 1, 2, 3, 4, 5, 6]
  const e = new Emitter(f)
  const col = e.times(BATCH, 8)
  const mCol = e.times(M, 1)
  f.get(mCol).get(col).op('i32Mul').set(mCol)
  const rowBytes = e.times(M, 8)
  e.assignSum(rowBytes, [rowBytes], 8)
  const twoRows = e.sum([rowBytes, rowBytes])
  const twoCols = e.sum([col, col])
  const dz = e.sum([ZI])
  e.decrease(dz, ZR)
  const dOut = e.sum([OUT_IM])
  e.decrease(dOut, OUT_RE)
  const twEnd = e.sum([TW, rowBytes, rowBytes])
  // k = 0..m in pairs while two remain: twPairsEnd = tw + 16 ((m + 1) & ~1).
  const twPairsEnd = e.times(M, 16)
  e.assignSum(twPairsEnd, [twPairsEnd], 16)
  f.get(twPairsEnd).i32Const(-32).op('i32And').get(TW).op('i32Add').set(twPairsEnd)
  const [pb, pbVecEnd, pbEnd, rowOut] = [e.sum([ZR]), e.times(BATCH, 8, -16), e.sum([ZR, col]), e.sum([OUT_RE])]
  e.assignSum(pbVecEnd, [pbVecEnd, ZR])
  const [pa, pc, pa1, pc1, po, twp] = [e.sum([]), e.sum([]), e.sum([]), e.sum([]), e.sum([]), e.sum([])]
  const halfLocal = e.f64Local(0.5)
  const minusHalfLocal = e.f64Local(-0.5)
  const start = (): void => {
    e.assignSum(pa, [pb])
    e.assignSum(pc, [pb, mCol])
    e.assignSum(po, [rowOut])
    e.assignSum(twp, [TW])
  }
  // One k of rows b (and b + 1): lanes are rows, the row side is written lane by lane.
  const single = (k: Lanes, half: Value, minusHalf: Value): void => {
    const [re, im] = postValue(k, { a: pa, c: pc, dz, tw: twp, offset: 0, half, minusHalf })
    k.scatter([po], rowBytes, re)
    k.scatter([po, dOut], rowBytes, im)
    e.assignSum(pa, [pa, col])
    e.decrease(pc, col)
    e.assignSum(po, [po], 8)
    e.assignSum(twp, [twp], 16)
  }
  // Rows b, b + 1: k, k + 1 at a time, the 2x2 blocks transposed so each row gets (X_k, X_k+1) in one store.
  e.loop(pb, pbVecEnd, () => {
    const k = e.vector
    const [half, minusHalf] = [k.scalar(halfLocal), k.scalar(minusHalfLocal)]
    start()
    e.loop(twp, twPairsEnd, () => {
      e.assignSum(pa1, [pa, col])
      e.assignSum(pc1, [pc])
      e.decrease(pc1, col)
      const [re0, im0] = postValue(k, { a: pa, c: pc, dz, tw: twp, offset: 0, half, minusHalf }).map((x) => k.let(x)) as [Value, Value]
      const [re1, im1] = postValue(k, { a: pa1, c: pc1, dz, tw: twp, offset: 16, half, minusHalf }).map((x) => k.let(x)) as [Value, Value]
      k.storeShuffled([po], re0, re1, LOW_LANES)
      k.storeShuffled([po, rowBytes], re0, re1, HIGH_LANES)
      k.storeShuffled([po, dOut], im0, im1, LOW_LANES)
      k.storeShuffled([po, dOut, rowBytes], im0, im1, HIGH_LANES)
      e.assignSum(pa, [pa, twoCols])
      e.decrease(pc, twoCols)
      e.assignSum(po, [po], 16)
      e.assignSum(twp, [twp], 32)
    })
    e.when(twp, twEnd, () => single(k, half, minusHalf))
    e.assignSum(pb, [pb], 16)
    e.assignSum(rowOut, [rowOut, twoRows])
  })
  e.when(pb, pbEnd, () => {
    start()
    e.loop(twp, twEnd, () => single(e.scalar, { local: halfLocal }, { local: minusHalfLocal }))
  })
  return f
}

/** (re, im, xr, xi, tw, m, batch, scale): half-spectrum rows of m + 1 at (re, im) to conj Z as [m][batch] in (xr, xi). */
export type PreProcess = (re: number, im: number, xr: number, xi: number, tw: number, m: number, batch: number, scale: number) => void

/** conj Z_k of inverseRealRowsFrom (real-fft.ts), line by line, from X_k (ar, ai) and X_(m-k) (cr, ci) as read (unscaled), W^k at tw + offset. */
function preValue(k: Lanes, x: { ar: Value; ai: Value; cr: Value; ci: Value }, c: { s: Value; half: Value; tw: number; offset: number }): [Node, Node] {
  const ar = k.let(mul(c.s, x.ar))
  const ai = k.let(mul(c.s, x.ai))
  const cr = k.let(mul(c.s, x.cr))
  const ci = k.let(neg(mul(c.s, x.ci)))
  const er = k.let(mul(c.half, add(ar, cr)))
  const ei = k.let(mul(c.half, add(ai, ci)))
  // O = (X_k - conj X_(M-k)) W^-k / 2
  const dr = k.let(mul(c.half, sub(ar, cr)))
  const di = k.let(mul(c.half, sub(ai, ci)))
  const wr = k.loadSplat(c.tw, c.offset)
  const wi = k.let(neg(k.loadSplat(c.tw, c.offset + 8)))
  const or = k.let(sub(mul(dr, wr), mul(di, wi)))
  const oi = k.let(add(mul(dr, wi), mul(di, wr)))
  // Z = E + i O, conjugated so that the forward plan computes the inverse
  return [sub(er, oi), neg(add(ei, or))]
}

function buildPre(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32, F64])
  const [RE, IM, XR, XI, TW, M, BATCH, SCALE] = [0, 1, 2, 3, 4, 5, 6, 7]
  const e = new Emitter(f)
  const col = e.times(BATCH, 8)
  const twoCols = e.sum([col, col])
  const rowBytes = e.times(M, 8)
  const mBytes = e.times(M, 8)
  e.assignSum(rowBytes, [rowBytes], 8)
  const twoRows = e.sum([rowBytes, rowBytes])
  const dIm = e.sum([IM])
  e.decrease(dIm, RE)
  const dX = e.sum([XI])
  e.decrease(dX, XR)
  const twEnd = e.times(M, 16)
  e.assignSum(twEnd, [twEnd, TW])
  // k = 0..m-1 in pairs while two remain.
  const twPairsEnd = e.times(M, 16, -32)
  e.assignSum(twPairsEnd, [twPairsEnd, TW])
  const [px, pxVecEnd, pxEnd, rowIn] = [e.sum([XR]), e.times(BATCH, 8, -16), e.sum([XR, col]), e.sum([RE])]
  e.assignSum(pxVecEnd, [pxVecEnd, XR])
  const [pk, pm, pm1, pxk, twp] = [e.sum([]), e.sum([]), e.sum([]), e.sum([]), e.sum([])]
  const halfLocal = e.f64Local(0.5)
  const start = (): void => {
    e.assignSum(pk, [rowIn])
    e.assignSum(pm, [rowIn, mBytes])
    e.assignSum(pxk, [px])
    e.assignSum(twp, [TW])
  }
  // One k of rows b (and b + 1): lanes are rows, the row side is read lane by lane.
  const single = (k: Lanes, s: Value, half: Value): void => {
    const x = { ar: k.gather([pk], rowBytes), ai: k.gather([pk, dIm], rowBytes), cr: k.gather([pm], rowBytes), ci: k.gather([pm, dIm], rowBytes) }
    const [zr, zi] = preValue(k, x, { s, half, tw: twp, offset: 0 })
    k.store([pxk], zr)
    k.store([pxk, dX], zi)
    e.assignSum(pk, [pk], 8)
    e.assignSum(pm, [pm], -8)
    e.assignSum(pxk, [pxk, col])
    e.assignSum(twp, [twp], 16)
  }
  // Rows b, b + 1: k, k + 1 at a time; (X_k, X_k+1) and (X_(m-k-1), X_(m-k)) of each row in one load, transposed to rows as lanes.
  e.loop(px, pxVecEnd, () => {
    const k = e.vector
    const [s, half] = [k.scalar(SCALE), k.scalar(halfLocal)]
    start()
    e.loop(twp, twPairsEnd, () => {
      e.assignSum(pm1, [pm], -8)
      const block = (at: Address, lanes: readonly number[], other: readonly number[]): [Value, Value] => {
        const row0 = k.load(at)
        const row1 = k.load([...at, rowBytes])
        return [k.shuffle(row0, row1, lanes), k.shuffle(row0, row1, other)]
      }
      const [ar0, ar1] = block([pk], LOW_LANES, HIGH_LANES)
      const [ai0, ai1] = block([pk, dIm], LOW_LANES, HIGH_LANES)
      const [cr0, cr1] = block([pm1], HIGH_LANES, LOW_LANES)
      const [ci0, ci1] = block([pm1, dIm], HIGH_LANES, LOW_LANES)
      const [zr0, zi0] = preValue(k, { ar: ar0, ai: ai0, cr: cr0, ci: ci0 }, { s, half, tw: twp, offset: 0 })
      k.store([pxk], zr0)
      k.store([pxk, dX], zi0)
      const [zr1, zi1] = preValue(k, { ar: ar1, ai: ai1, cr: cr1, ci: ci1 }, { s, half, tw: twp, offset: 16 })
      k.store([pxk, col], zr1)
      k.store([pxk, col, dX], zi1)
      e.assignSum(pk, [pk], 16)
      e.assignSum(pm, [pm], -16)
      e.assignSum(pxk, [pxk, twoCols])
      e.assignSum(twp, [twp], 32)
    })
    e.when(twp, twEnd, () => single(k, s, half))
    e.assignSum(px, [px], 16)
    e.assignSum(rowIn, [rowIn, twoRows])
  })
  e.when(px, pxEnd, () => {
    start()
    e.loop(twp, twEnd, () => single(e.scalar, { local: SCALE }, { local: halfLocal }))
  })
  return f
}

/** (zr, zi, dst, m, batch, s, t): [m][batch] in (zr, zi) to rows of 2m reals at dst, x_2j = s Re z_j, x_2j+1 = t Im z_j. */
export type Interleave = (zr: number, zi: number, dst: number, m: number, batch: number, outScale: number, negOutScale: number) => void

function buildInterleave(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, F64, F64])
  const [ZR, ZI, DST, M, BATCH, SCALE, NEG_SCALE] = [0, 1, 2, 3, 4, 5, 6]
  const e = new Emitter(f)
  const col = e.times(BATCH, 8)
  const vecEnd = e.times(BATCH, 8, -16)
  const rowBytes = e.times(M, 16)
  const twoRows = e.times(M, 32)
  const dz = e.sum([ZI])
  e.decrease(dz, ZR)
  const b = e.sum([], 0)
  const row = e.sum([DST])
  const [pz, pd, pdEnd] = [e.sum([]), e.sum([]), e.sum([])]
  const sv = e.vector.scalar(SCALE)
  const tv = e.vector.scalar(NEG_SCALE)
  const start = (): void => {
    e.assignSum(pz, [ZR, b])
    e.assignSum(pd, [row])
    e.assignSum(pdEnd, [row, rowBytes])
  }
  const step = (): void => {
    e.assignSum(pz, [pz, col])
    e.assignSum(pd, [pd], 16)
  }
  // Two rows at a time: (re_b, re_b+1) and (im_b, im_b+1) scaled, transposed into (x_2j, x_2j+1) of rows b and b + 1.
  e.loop(b, vecEnd, () => {
    start()
    e.loop(pd, pdEnd, () => {
      const vr = e.vector.let(mul(sv, e.vector.load([pz])))
      const vi = e.vector.let(mul(tv, e.vector.load([pz, dz])))
      f.get(pd).get(vr.local).get(vi.local).i8x16Shuffle(LOW_LANES).v128Store()
      f.get(pd).get(rowBytes).op('i32Add').get(vr.local).get(vi.local).i8x16Shuffle(HIGH_LANES).v128Store()
      step()
    })
    e.assignSum(row, [row, twoRows])
    e.assignSum(b, [b], 16)
  })
  e.when(b, col, () => {
    start()
    e.loop(pd, pdEnd, () => {
      f.get(pd).get(SCALE).get(pz).f64Load().op('f64Mul').f64Store()
      f.get(pd).get(NEG_SCALE).get(pz).get(dz).op('i32Add').f64Load().op('f64Mul').f64Store(8)
      step()
    })
  })
  return f
}

/** The row functions of the module, by export name. */
export function rowFunctions(): { name: string; body: FunctionBuilder }[] {
  return [
    { name: 'deinterleave', body: buildDeinterleave() },
    { name: 'post', body: buildPost() },
    { name: 'pre', body: buildPre() },
    { name: 'interleave', body: buildInterleave() },
  ]
}
