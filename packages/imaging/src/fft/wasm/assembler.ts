// A small WebAssembly binary writer: LEB128, function bodies with the few MVP and SIMD instructions the FFT kernels use, and module sections.
//
// Every byte value below is from chapter 5 "Binary Format" of the WebAssembly Core Specification
// (release 3.0; the 128-bit SIMD instructions entered the core in release 2.0 as "vector
// instructions"). Comments name the sections it is in: "Values" (Integers, i.e. LEB128; Floating-
// Point; Names), "Types", "Instructions" (Control, Variable, Memory, Numeric, Vector) and "Modules"
// (Sections, Type/Import/Function/Export/Code Section, Modules). The vector opcodes also match
// the opcode table of the SIMD proposal, WebAssembly/simd proposals/simd/BinarySIMD.md.

/** Value types (spec Types: Number Types, Vector Types). */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const
export type ValType = (typeof ValType)[keyof typeof ValType]

/** Single-byte opcodes (spec Instructions: Control, Variable, Memory, Numeric). */
const Op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Neg: 0x9a,
} as const

/** The prefix of every vector instruction, followed by its opcode as a u32 LEB128 (spec Instructions: Vector Instructions). */
const SIMD_PREFIX = 0xfd

/** Vector opcodes (spec Vector Instructions; BinarySIMD.md): those >= 0x80 take two LEB128 bytes (0xf0 is f0 01). */
const SimdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Neg: 0xed,
  f64x2ReplaceLane: 0x22,
  v128Load64Splat: 0x0a,
  i8x16Shuffle: 0x0d,
} as const

/** The empty block type (spec Control Instructions: blocktype 0x40). */
const EMPTY_BLOCK = 0x40

/** Unsigned LEB128 of an integer 0 <= value < 2^32 (spec Values: Integers, u32). */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 LEB128: ${value} is not an integer in [0, 2^32)`)
  const bytes: number[] = []
  let rest = value
  do {
    const low = rest % 128
    rest = Math.floor(rest / 128)
    bytes.push(rest === 0 ? low : low | 0x80)
  } while (rest !== 0)
  return bytes
}

/**
 * Signed LEB128 of an integer -2^31 <= value < 2^31 (spec Values: Integers, s32): seven bits per byte,
 * low first, until the rest is all sign bits and the last byte's bit 6 repeats the sign.
 */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`s32 LEB128: ${value} is not an integer in [-2^31, 2^31)`)
  const bytes: number[] = []
  let rest = value
  for (;;) {
    const low = ((rest % 128) + 128) % 128
    // Floor division is the arithmetic shift right by 7, for negative values too.
    rest = Math.floor(rest / 128)
    const signBit = (low & 0x40) !== 0
    if ((rest === 0 && !signBit) || (rest === -1 && signBit)) {
      bytes.push(low)
      return bytes
    }
    bytes.push(low | 0x80)
  }
}

/** IEEE 754 binary64, little endian (spec Values: Floating-Point). */
function f64Bytes(value: number): number[] {
  return Array.from(new Uint8Array(new Float64Array([value]).buffer))
}

/** A name: its UTF-8 bytes after their count (spec Values: Names). */
function nameBytes(name: string): number[] {
  const utf8 = Array.from(new TextEncoder().encode(name))
  return [...unsignedLeb128(utf8.length), ...utf8]
}

/** A vector: its element count, then the elements (spec Conventions: Vectors). */
function vec(items: readonly number[][]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()]
}

/**
 * memarg.align, the log2 of the alignment the kernels promise: 8 bytes, as every Float64Array is
 * aligned. It is only a hint (spec Validation: Memory Instructions requires 2^align <= the access width).
 */
const ALIGN_8 = 3

/** The body of one function: declared locals and its instruction bytes (spec Modules: Code Section). */
export class FunctionBuilder {
  private readonly code: number[] = []
  private readonly localTypes: ValType[] = []

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {}

  /** A new local of this type; returns its index (parameters come first). */
  local(type: ValType): number {
    this.localTypes.push(type)
    return this.params.length + this.localTypes.length - 1
  }

  block(): this {
    this.code.push(Op.block, EMPTY_BLOCK)
    return this
  }

  loop(): this {
    this.code.push(Op.loop, EMPTY_BLOCK)
    return this
  }

  end(): this {
    this.code.push(Op.end)
    return this
  }

  /** Branch to the enclosing label `depth` (0: innermost): a block's end, or a loop's start. */
  br(depth: number): this {
    this.code.push(Op.br, ...unsignedLeb128(depth))
    return this
  }

  brIf(depth: number): this {
    this.code.push(Op.brIf, ...unsignedLeb128(depth))
    return this
  }

  get(index: number): this {
    this.code.push(Op.localGet, ...unsignedLeb128(index))
    return this
  }

  set(index: number): this {
    this.code.push(Op.localSet, ...unsignedLeb128(index))
    return this
  }

  tee(index: number): this {
    this.code.push(Op.localTee, ...unsignedLeb128(index))
    return this
  }

  i32Const(value: number): this {
    this.code.push(Op.i32Const, ...signedLeb128(value))
    return this
  }

  f64Const(value: number): this {
    this.code.push(Op.f64Const, ...f64Bytes(value))
    return this
  }

  /** A plain numeric instruction without immediates. */
  op(name: 'i32LtU' | 'i32GeU' | 'i32Add' | 'i32Sub' | 'i32Mul' | 'i32And' | 'f64Add' | 'f64Sub' | 'f64Mul' | 'f64Neg'): this {
    this.code.push(Op[name])
    return this
  }

  /** A vector instruction without immediates. */
  simd(name: 'f64x2Splat' | 'f64x2Add' | 'f64x2Sub' | 'f64x2Mul' | 'f64x2Neg'): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp[name]))
    return this
  }

  f64x2ExtractLane(lane: 0 | 1): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.f64x2ExtractLane), lane)
    return this
  }

  /** Replaces one lane of the vector below the f64 on top of the stack (spec Vector Instructions: f64x2.replace_lane). */
  f64x2ReplaceLane(lane: 0 | 1): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.f64x2ReplaceLane), lane)
    return this
  }

  /**
   * i8x16.shuffle of the two vectors on the stack: byte i of the result is byte lanes[i] of their
   * concatenation (0..15 the first operand, 16..31 the second), the 16 immediates after the opcode.
   */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || !lanes.every((lane) => Number.isInteger(lane) && lane >= 0 && lane < 32)) throw new RangeError(`i8x16.shuffle: 16 lane indices in [0, 32) expected, got [${lanes.join(', ')}]`)
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.i8x16Shuffle), ...lanes)
    return this
  }

  /** Memory access with memarg {align, offset} (spec Memory Instructions); the address is on the stack. */
  f64Load(offset = 0): this {
    this.code.push(Op.f64Load, ALIGN_8, ...unsignedLeb128(offset))
    return this
  }

  f64Store(offset = 0): this {
    this.code.push(Op.f64Store, ALIGN_8, ...unsignedLeb128(offset))
    return this
  }

  v128Load(offset = 0): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.v128Load), ALIGN_8, ...unsignedLeb128(offset))
    return this
  }

  /** Loads one f64 into both lanes (spec Vector Instructions: v128.load64_splat). */
  v128Load64Splat(offset = 0): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.v128Load64Splat), ALIGN_8, ...unsignedLeb128(offset))
    return this
  }

  v128Store(offset = 0): this {
    this.code.push(SIMD_PREFIX, ...unsignedLeb128(SimdOp.v128Store), ALIGN_8, ...unsignedLeb128(offset))
    return this
  }

  /** The code section entry: size, locals as runs of one type, then the expression ending in `end` (spec Code Section). */
  encode(): number[] {
    const runs: number[][] = []
    let at = 0
    while (at < this.localTypes.length) {
      const type = this.localTypes[at] as ValType
      let count = 0
      while (this.localTypes[at + count] === type) count++
      runs.push([...unsignedLeb128(count), type])
      at += count
    }
    const body = [...vec(runs), ...this.code, Op.end]
    return [...unsignedLeb128(body.length), ...body]
  }
}

/** A module of exported functions that may import one linear memory. */
export interface ModuleSpec {
  /** Imported as `module.name` with at least `minPages` pages of 64 KiB (spec Import Section; Types: Limits). */
  readonly memory?: { readonly module: string; readonly name: string; readonly minPages: number }
  readonly functions: readonly { readonly name: string; readonly body: FunctionBuilder }[]
}

/** A section: its id, its size in bytes, its contents (spec Modules: Sections). */
function section(id: number, contents: number[]): number[] {
  return [id, ...unsignedLeb128(contents.length), ...contents]
}

/** Section ids (spec Modules: each section's own paragraph): type 1, import 2, function 3, export 7, code 10. */
const SectionId = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const

/** The binary module (spec Modules: Modules): magic `\0asm`, version 1, then the sections in their required order. */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  // Function types (0x60 params results, spec Types: Function Types), one per distinct signature.
  const types: number[][] = []
  const keys: string[] = []
  const typeOf = spec.functions.map(({ body }) => {
    const type = [0x60, ...vec(body.params.map((t) => [t])), ...vec(body.results.map((t) => [t]))]
    const key = type.join(',')
    let index = keys.indexOf(key)
    if (index < 0) {
      index = keys.push(key) - 1
      types.push(type)
    }
    return index
  })
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...section(SectionId.type, vec(types))]
  if (spec.memory !== undefined) {
    // importdesc 0x02 memtype; limits 0x00 min (no maximum).
    const { module, name, minPages } = spec.memory
    bytes.push(...section(SectionId.import, vec([[...nameBytes(module), ...nameBytes(name), 0x02, 0x00, ...unsignedLeb128(minPages)]])))
  }
  bytes.push(...section(SectionId.function, vec(typeOf.map((t) => unsignedLeb128(t)))))
  // exportdesc 0x00 funcidx: functions are numbered after the imported ones, of which there are none.
  bytes.push(...section(SectionId.export, vec(spec.functions.map(({ name }, index) => [...nameBytes(name), 0x00, ...unsignedLeb128(index)]))))
  bytes.push(...section(SectionId.code, vec(spec.functions.map(({ body }) => body.encode()))))
  return new Uint8Array(bytes)
}
