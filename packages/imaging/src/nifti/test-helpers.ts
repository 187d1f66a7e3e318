// Test helpers for the NIfTI tests: temp folders, sample affines and data, and raw header builders.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect } from 'vitest'
import type { Mat4, NiftiData, NiftiDatatype } from './types.js'

/** A fresh temp folder per call, removed after each test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-nifti-'))
    made.push(dir)
    return dir
  }
}

/** dcm2niix's LAS affine for an axial Siemens series: x flipped, so det < 0. */
export const LAS_AFFINE: Mat4 = [
  [-3.25, 0, 0, 101.5],
  [0, 3.25, 0, -98.25],
  [0, 0, 3.6, -40.75],
  [0, 0, 0, 1],
]

/** Rotation about x by `ax`, then z by `az` (degrees), times diag(scale): a proper oblique affine. */
export function obliqueAffine(scale: readonly [number, number, number], offset: readonly [number, number, number], ax = 20, az = 10): Mat4 {
  const [cx, sx, cz, sz] = [Math.cos((ax * Math.PI) / 180), Math.sin((ax * Math.PI) / 180), Math.cos((az * Math.PI) / 180), Math.sin((az * Math.PI) / 180)]
  const r = [
    [cz, -sz * cx, sz * sx],
    [sz, cz * cx, -cz * sx],
    [0, sx, cx],
  ]
  const row = (i: number): [number, number, number, number] => [r[i]![0]! * scale[0], r[i]![1]! * scale[1], r[i]![2]! * scale[2], offset[i]!]
  return [row(0), row(1), row(2), [0, 0, 0, 1]]
}

/** An oblique affine with det < 0 (x flipped), like dcm2niix writes for oblique axial scans. */
export const OBLIQUE_LAS: Mat4 = obliqueAffine([-3.25, 3.25, 3.6], [101.5, -98.25, 40])

export function expectMat4Close(actual: Mat4, expected: Mat4, tolerance: number): void {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const [a, e] = [actual[i]![j]!, expected[i]![j]!]
      if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)))) {
        expect.fail(`matrix element [${i}][${j}] is ${a}, expected ${e} (±${tolerance})\n${JSON.stringify(actual)}`)
      }
    }
  }
}

/** `count` values of `datatype` including its extremes. */
export function sampleData(datatype: NiftiDatatype, count: number): NiftiData {
  const ranges: Record<NiftiDatatype, [number, number]> = {
    uint8: [0, 255],
    int8: [-128, 127],
    int16: [-32768, 32767],
    uint16: [0, 65535],
    int32: [-(2 ** 31), 2 ** 31 - 1],
    uint32: [0, 2 ** 32 - 1],
    float32: [-3.4e38, 3.4e38],
    float64: [-1.7e308, 1.7e308],
  }
  const [min, max] = ranges[datatype]
  const values = Array.from({ length: count }, (_, i) => (i === 0 ? min : i === 1 ? max : Math.round(min / 3 + ((max / 3 - min / 3) * i) / count)))
  if (datatype.startsWith('float')) values[2] = -0.5
  const arrays = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array }
  return arrays[datatype].from(values)
}

export interface RawNiftiSpec {
  readonly version: 1 | 2
  readonly littleEndian: boolean
  readonly dims: readonly number[]
  readonly pixdim: readonly number[] // pixdim[0..7]
  readonly datatypeCode: number
  readonly bytesPerVoxel: number
  readonly quatern: readonly [number, number, number, number, number, number]
  readonly srow: readonly (readonly [number, number, number, number])[]
  readonly qformCode: number
  readonly sformCode: number
  readonly sclSlope: number
  readonly sclInter: number
  /** Voxel bytes, little endian; swapped for a big-endian file. */
  readonly data: Uint8Array
}

/** A single-file NIfTI-1 or NIfTI-2 written field by field at the offsets of nifti1.h / nifti2.h. */
export function rawNifti(spec: RawNiftiSpec): Uint8Array {
  const v1 = spec.version === 1
  const offset = v1 ? 352 : 544
  const out = new Uint8Array(offset + spec.data.byteLength)
  const view = new DataView(out.buffer)
  const le = spec.littleEndian
  const float = (at: number, value: number): void => (v1 ? view.setFloat32(at, value, le) : view.setFloat64(at, value, le))
  const int = (at: number, value: number): void => (v1 ? view.setInt16(at, value, le) : view.setBigInt64(at, BigInt(value), le))
  const ascii = (at: number, text: string): void => out.set(new TextEncoder().encode(text), at)
  view.setInt32(0, v1 ? 348 : 540, le)
  if (v1) ascii(344, 'n+1\0')
  else ascii(4, 'n+2\0\r\n\x1a\n')
  view.setInt16(v1 ? 70 : 12, spec.datatypeCode, le)
  view.setInt16(v1 ? 72 : 14, spec.bytesPerVoxel * 8, le)
  const dim = [spec.dims.length, ...spec.dims, 1, 1, 1, 1, 1, 1, 1].slice(0, 8)
  dim.forEach((n, i) => int((v1 ? 40 : 16) + i * (v1 ? 2 : 8), n))
  spec.pixdim.forEach((value, i) => float((v1 ? 76 : 104) + i * (v1 ? 4 : 8), value))
  if (v1) view.setFloat32(108, offset, le)
  else view.setBigInt64(168, BigInt(offset), le)
  float(v1 ? 112 : 176, spec.sclSlope)
  float(v1 ? 116 : 184, spec.sclInter)
  if (v1) {
    view.setInt16(252, spec.qformCode, le)
    view.setInt16(254, spec.sformCode, le)
  } else {
    view.setInt32(344, spec.qformCode, le)
    view.setInt32(348, spec.sformCode, le)
  }
  spec.quatern.forEach((value, i) => float((v1 ? 256 : 352) + i * (v1 ? 4 : 8), value))
  spec.srow.forEach((row, r) => row.forEach((value, i) => float((v1 ? 280 : 400) + (r * 4 + i) * (v1 ? 4 : 8), value)))
  const data = out.subarray(offset)
  data.set(spec.data)
  if (!le) {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (spec.bytesPerVoxel === 2) buffer.swap16()
    if (spec.bytesPerVoxel === 4) buffer.swap32()
    if (spec.bytesPerVoxel === 8) buffer.swap64()
  }
  return out
}

/** The bytes of a typed array (a view, not a copy). */
export function bytesOf(data: NiftiData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
