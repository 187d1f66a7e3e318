// Reading ITK .mat (MATLAB v4) and elastix TransformParameters files into point maps, and their conventions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { apply, type Mat4 } from '@pacsflow/imaging'
import {
  eulerMatrix,
  itkLinearToMatrix,
  lpsToRasTransform,
  parseElastixParameters,
  parseMatlabV4,
  readElastixTransform,
  readItkMatTransform,
  rotationDegrees,
} from './transforms.js'

const dir = mkdtempSync(join(tmpdir(), 'pacsflow-qsmxt-transforms-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** One MATLAB v4 matrix (n x 1) as the format describes it, in either byte order and precision. */
function matrix(name: string, values: readonly number[], options: { big?: boolean; single?: boolean } = {}): Buffer {
  const little = options.big !== true
  const size = options.single === true ? 4 : 8
  const header = Buffer.alloc(20)
  const int = (value: number, at: number) => (little ? header.writeInt32LE(value, at) : header.writeInt32BE(value, at))
  int((little ? 0 : 1000) + (options.single === true ? 10 : 0), 0)
  int(values.length, 4)
  int(1, 8)
  int(0, 12)
  int(name.length + 1, 16)
  const data = Buffer.alloc(values.length * size)
  values.forEach((value, i) => {
    if (size === 8) little ? data.writeDoubleLE(value, i * 8) : data.writeDoubleBE(value, i * 8)
    else little ? data.writeFloatLE(value, i * 4) : data.writeFloatBE(value, i * 4)
  })
  return Buffer.concat([header, Buffer.from(`${name}\0`, 'latin1'), data])
}

const rotZ90 = [0, -1, 0, 1, 0, 0, 0, 0, 1]

describe('parseMatlabV4', () => {
  it('reads little- and big-endian, double and single matrices with their names', () => {
    for (const options of [{}, { big: true }, { single: true }, { big: true, single: true }]) {
      const bytes = Buffer.concat([matrix('MatrixOffsetTransformBase_double_3_3', [...rotZ90, 1.5, -2, 3], options), matrix('fixed', [10, 20, 30], options)])
      const variables = parseMatlabV4(bytes)
      expect(variables.map((v) => [v.name, v.rows, v.cols])).toEqual([['MatrixOffsetTransformBase_double_3_3', 12, 1], ['fixed', 3, 1]])
      expect(variables[0]!.values).toEqual([...rotZ90, 1.5, -2, 3])
      expect(variables[1]!.values).toEqual([10, 20, 30])
    }
  })

  it('refuses truncated files and non-numeric matrices with QSMXT_TRANSFORM', () => {
    const bytes = matrix('AffineTransform_double_3_3', [...rotZ90, 0, 0, 0])
    expect(() => parseMatlabV4(bytes.subarray(0, bytes.length - 3))).toThrow(/runs past the end/)
    const text = Buffer.from(bytes)
    text.writeInt32LE(1, 0)
    try {
      parseMatlabV4(text)
      expect.unreachable()
    } catch (error) {
      expect(isPacsflowError(error, 'QSMXT_TRANSFORM')).toBe(true)
    }
  })
})

describe('ITK linear transforms', () => {
  it('maps y = M (x - c) + c + t (MatrixOffsetTransformBase with a centre)', () => {
    const m = itkLinearToMatrix('MatrixOffsetTransformBase_double_3_3', [...rotZ90, 1, 2, 3], [10, 0, 0])
    // x = c: y = c + t
    expect(apply(m, [10, 0, 0])).toEqual([11, 2, 3])
    // x = c + (1, 0, 0): M rotates it to c + (0, 1, 0), then + t
    const y = apply(m, [11, 0, 0])
    expect(y.map((v) => Math.round(v * 1e12) / 1e12)).toEqual([11, 3, 3])
  })

  it('builds Euler3DTransform as Rz Rx Ry (or Rz Ry Rx with ComputeZYX)', () => {
    const quarter = Math.PI / 2
    const aboutX = itkLinearToMatrix('Euler3DTransform_double_3_3', [quarter, 0, 0, 0, 0, 0], [0, 0, 0])
    expect(apply(aboutX, [0, 1, 0]).map((v) => Math.round(v))).toEqual([0, 0, 1])
    const [ax, ay, az] = [0.1, -0.2, 0.3]
    const zxy = eulerMatrix(ax, ay, az)
    const zyx = eulerMatrix(ax, ay, az, true)
    expect(zxy).not.toEqual(zyx)
    const withFlag = itkLinearToMatrix('Euler3DTransform_double_3_3', [ax, ay, az, 0, 0, 0], [0, 0, 0, 1])
    expect(withFlag.slice(0, 3).map((row) => row.slice(0, 3))).toEqual(zyx)
    // Orthonormal with determinant 1.
    const det = zxy[0]![0]! * (zxy[1]![1]! * zxy[2]![2]! - zxy[1]![2]! * zxy[2]![1]!) - zxy[0]![1]! * (zxy[1]![0]! * zxy[2]![2]! - zxy[1]![2]! * zxy[2]![0]!) + zxy[0]![2]! * (zxy[1]![0]! * zxy[2]![1]! - zxy[1]![1]! * zxy[2]![0]!)
    expect(det).toBeCloseTo(1, 12)
  })

  it('builds VersorRigid3DTransform from its versor', () => {
    const m = itkLinearToMatrix('VersorRigid3DTransform_double_3_3', [0, 0, Math.SQRT1_2, 5, 0, 0], [0, 0, 0])
    expect(apply(m, [1, 0, 0]).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([5, 1, 0])
  })

  it('refuses transforms it cannot represent', () => {
    expect(() => itkLinearToMatrix('BSplineTransform_double_3_3', [1, 2, 3], [])).toThrow(/unsupported transform/)
  })

  it('reads an ANTs GenericAffine.mat file', async () => {
    const file = join(dir, 'ants_0GenericAffine.mat')
    writeFileSync(file, Buffer.concat([matrix('AffineTransform_double_3_3', [...rotZ90, 0, 0, 0]), matrix('fixed', [0, 0, 0])]))
    const m = await readItkMatTransform(file)
    expect(apply(m, [1, 0, 0]).map((v) => Math.round(v))).toEqual([0, 1, 0])
    await expect(readItkMatTransform(join(dir, 'missing.mat'))).rejects.toMatchObject({ code: 'QSMXT_TRANSFORM' })
  })
})

describe('elastix TransformParameters', () => {
  it('parses quoted strings, numbers and comments', () => {
    const p = parseElastixParameters('// comment\n(Transform "EulerTransform")\n(TransformParameters -0.1 0.2 3e-1 1 2 3) // trailing\n(ComputeZYX "false")\n')
    expect(p.get('Transform')).toEqual(['EulerTransform'])
    expect(p.get('TransformParameters')).toEqual([-0.1, 0.2, 0.3, 1, 2, 3])
    expect(p.get('ComputeZYX')).toEqual(['false'])
  })

  it('reads what elastix 5.0.1 wrote for a known rigid misalignment (the real run of the integration test)', async () => {
    // elastix 5.0.1 registered the XA30 T1 (fixed) to itself moved by M (moving world = M * fixed world, RAS).
    const file = join(dir, 'TransformParameters.0.txt')
    writeFileSync(
      file,
      [
        '(Transform "EulerTransform")',
        '(NumberOfParameters 6)',
        '(TransformParameters -0.074174 -0.045949 0.087286 -4.054182 3.024545 1.975027)',
        '(InitialTransformParametersFileName "NoInitialTransform")',
        '(HowToCombineTransforms "Compose")',
        '(CenterOfRotationPoint -5.4189300537 -29.0939941406 -13.7760009766)',
        '(ComputeZYX "false")',
      ].join('\n'),
    )
    const M: Mat4 = [
      [0.99482945, -0.0870363, 0.05233596, 7.32110378],
      [0.09058032, 0.99344983, -0.06966087, -4.27430024],
      [-0.04593012, 0.0740413, 0.99619692, 0.01803822],
      [0, 0, 0, 1],
    ]
    const ras = lpsToRasTransform(await readElastixTransform(file))
    for (const point of [[-40, -60, -30], [40, 30, 50], [0, -20, 10]] as const) {
      const [a, b] = [apply(ras, point), apply(M, point)]
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(0.05)
    }
  })

  it('composes an initial transform first (Compose: T(x) = T1(T0(x)))', async () => {
    const initial = join(dir, 'TransformParameters.init.txt')
    writeFileSync(initial, '(Transform "TranslationTransform")\n(TransformParameters 1 0 0)\n(InitialTransformParametersFileName "NoInitialTransform")\n')
    const file = join(dir, 'TransformParameters.1.txt')
    writeFileSync(file, `(Transform "EulerTransform")\n(TransformParameters 0 0 ${Math.PI / 2} 0 0 0)\n(CenterOfRotationPoint 0 0 0)\n(InitialTransformParametersFileName "TransformParameters.init.txt")\n(HowToCombineTransforms "Compose")\n`)
    const m = await readElastixTransform(file)
    expect(apply(m, [0, 0, 0]).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 1, 0])
  })

  it('refuses unknown transforms and Add combination', async () => {
    const bspline = join(dir, 'bspline.txt')
    writeFileSync(bspline, '(Transform "BSplineTransform")\n(TransformParameters 1 2 3 4)\n')
    await expect(readElastixTransform(bspline)).rejects.toMatchObject({ code: 'QSMXT_TRANSFORM' })
    const add = join(dir, 'add.txt')
    writeFileSync(add, `(Transform "TranslationTransform")\n(TransformParameters 1 0 0)\n(InitialTransformParametersFileName "${bspline}")\n(HowToCombineTransforms "Add")\n`)
    await expect(readElastixTransform(add)).rejects.toThrow(/Add is not supported/)
  })
})

describe('conventions', () => {
  it('turns an LPS map into the RAS one (x and y negated on both sides)', () => {
    const lps: Mat4 = [[1, 0, 0, 2], [0, 1, 0, 3], [0, 0, 1, 4], [0, 0, 0, 1]]
    expect(lpsToRasTransform(lps)).toEqual([[1, 0, 0, -2], [0, 1, 0, -3], [0, 0, 1, 4], [0, 0, 0, 1]])
  })

  it('measures the rotation angle of a rigid map', () => {
    const m = itkLinearToMatrix('Euler3DTransform_double_3_3', [0, 0, (5 * Math.PI) / 180, 0, 0, 0], [0, 0, 0])
    expect(rotationDegrees(m)).toBeCloseTo(5, 9)
  })
})
