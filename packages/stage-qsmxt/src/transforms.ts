// Reads the rigid transforms ANTs (ITK .mat, MATLAB v4) and elastix (TransformParameters text) write, as 4x4 point maps in RAS mm.
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { multiply, type Mat4 } from '@pacsflow/imaging'

/** A variable of a MATLAB Level 4 MAT-file. */
export interface MatVariable {
  readonly name: string
  readonly rows: number
  readonly cols: number
  /** Real part, column-major. */
  readonly values: readonly number[]
}

function transformError(file: string, message: string, cause?: unknown): PacsflowError {
  return new PacsflowError('QSMXT_TRANSFORM', `${file}: ${message}`, { details: { path: file }, ...(cause === undefined ? {} : { cause }) })
}

/**
 * Parses a MATLAB Level 4 MAT-file (MathWorks, "MAT-File Format", Level 4 MAT-Files): a sequence of
 * matrices, each a 20-byte header of five int32 - type MOPT (M machine: 0 little-endian IEEE,
 * 1 big-endian IEEE; O 0; P precision: 0 double, 1 single, 2 int32, 3 int16, 4 uint16, 5 uint8;
 * T 0 full numeric), mrows, ncols, imagf, namlen - then the name (namlen bytes with its NUL), the
 * real part column-major, and the imaginary part when imagf is 1. ITK's MatlabTransformIO writes
 * ANTs' `*GenericAffine.mat` this way through vnl_matlab_write.
 */
export function parseMatlabV4(bytes: Uint8Array, file = 'transform.mat'): MatVariable[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const variables: MatVariable[] = []
  let at = 0
  while (at < bytes.length) {
    if (at + 20 > bytes.length) throw transformError(file, `truncated MAT-file header at byte ${at}`)
    const little = isLittleEndianType(view.getInt32(at, true))
    const int = (offset: number) => view.getInt32(at + offset, little)
    const [type, rows, cols, imagf, nameLength] = [int(0), int(4), int(8), int(12), int(16)]
    const machine = Math.floor(type / 1000)
    const order = Math.floor(type / 100) % 10
    const precision = Math.floor(type / 10) % 10
    const kind = type % 10
    if (machine > 1 || order !== 0 || kind !== 0 || precision > 5) throw transformError(file, `unsupported MAT-file matrix type ${type} (only IEEE numeric matrices)`)
    if (rows < 0 || cols < 0 || nameLength < 1 || nameLength > 1024 || (imagf !== 0 && imagf !== 1)) throw transformError(file, `malformed MAT-file header at byte ${at}`)
    const size = [8, 4, 4, 2, 2, 1][precision]!
    const count = rows * cols
    const dataStart = at + 20 + nameLength
    const dataEnd = dataStart + count * size * (imagf + 1)
    if (dataEnd > bytes.length) throw transformError(file, `MAT-file variable at byte ${at} runs past the end of the file`)
    const name = new TextDecoder('latin1').decode(bytes.subarray(at + 20, at + 20 + nameLength)).replace(/\0.*$/s, '')
    const values: number[] = []
    for (let i = 0; i < count; i++) values.push(readNumber(view, dataStart + i * size, precision, little))
    variables.push({ name, rows, cols, values })
    at = dataEnd
  }
  return variables
}

/** The type word read little-endian is a valid MOPT with M = 0 exactly when the file is little-endian. */
function isLittleEndianType(littleValue: number): boolean {
  return littleValue >= 0 && littleValue < 1000
}

function readNumber(view: DataView, offset: number, precision: number, little: boolean): number {
  switch (precision) {
    case 0: return view.getFloat64(offset, little)
    case 1: return view.getFloat32(offset, little)
    case 2: return view.getInt32(offset, little)
    case 3: return view.getInt16(offset, little)
    case 4: return view.getUint16(offset, little)
    default: return view.getUint8(offset)
  }
}

/**
 * The point map (fixed to moving, ITK's LPS physical space) of an ITK linear transform:
 * `y = M (x - c) + c + t` (itk::MatrixOffsetTransformBase, offset = t + c - M c).
 * - `MatrixOffsetTransformBase_*_3_3`, `AffineTransform_*_3_3`: 12 parameters, M row-major then t; fixed c.
 * - `Euler3DTransform_*_3_3`: angles (rad) about x, y, z then t; fixed c (and ComputeZYX as a 4th value);
 *   M = Rz Rx Ry, or Rz Ry Rx with ComputeZYX (itk::Euler3DTransform::ComputeMatrix).
 * - `VersorRigid3DTransform_*_3_3`: versor (x, y, z; w = sqrt(1 - |v|^2)) then t; fixed c.
 */
export function itkLinearToMatrix(type: string, parameters: readonly number[], fixed: readonly number[], file = 'transform'): Mat4 {
  const center = [fixed[0] ?? 0, fixed[1] ?? 0, fixed[2] ?? 0]
  const family = type.replace(/_(double|float)_3_3$/, '')
  let m: number[][]
  let t: number[]
  if ((family === 'MatrixOffsetTransformBase' || family === 'AffineTransform') && parameters.length === 12) {
    m = [parameters.slice(0, 3), parameters.slice(3, 6), parameters.slice(6, 9)]
    t = parameters.slice(9, 12)
  } else if (family === 'Euler3DTransform' && parameters.length === 6) {
    m = eulerMatrix(parameters[0]!, parameters[1]!, parameters[2]!, (fixed[3] ?? 0) !== 0)
    t = parameters.slice(3, 6)
  } else if (family === 'VersorRigid3DTransform' && parameters.length === 6) {
    m = versorMatrix(parameters[0]!, parameters[1]!, parameters[2]!)
    t = parameters.slice(3, 6)
  } else {
    throw transformError(file, `unsupported transform ${type} with ${parameters.length} parameters (expected a rigid or affine 3D transform)`)
  }
  return withCenter(m, t, center)
}

function withCenter(m: readonly number[][], t: readonly number[], c: readonly number[]): Mat4 {
  const row = (r: number): [number, number, number, number] => {
    const offset = t[r]! + c[r]! - (m[r]![0]! * c[0]! + m[r]![1]! * c[1]! + m[r]![2]! * c[2]!)
    return [m[r]![0]!, m[r]![1]!, m[r]![2]!, offset]
  }
  return [row(0), row(1), row(2), [0, 0, 0, 1]]
}

/** ITK Euler3DTransform's rotation: Rz Rx Ry (default), or Rz Ry Rx when `computeZYX`. */
export function eulerMatrix(ax: number, ay: number, az: number, computeZYX = false): number[][] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)]
  const rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]]
  const ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
  const rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]
  return computeZYX ? mul3(rz, mul3(ry, rx)) : mul3(rz, mul3(rx, ry))
}

function versorMatrix(x: number, y: number, z: number): number[][] {
  const w = Math.sqrt(Math.max(0, 1 - x * x - y * y - z * z))
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ]
}

function mul3(a: readonly number[][], b: readonly number[][]): number[][] {
  return [0, 1, 2].map((r) => [0, 1, 2].map((c) => a[r]![0]! * b[0]![c]! + a[r]![1]! * b[1]![c]! + a[r]![2]! * b[2]![c]!))
}

/** Reads ANTs' `*0GenericAffine.mat`: the point map fixed to moving, LPS. */
export async function readItkMatTransform(file: string): Promise<Mat4> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (error) {
    throw transformError(file, 'cannot read the transform file', error)
  }
  const variables = parseMatlabV4(bytes, file)
  const transform = variables.find((v) => v.name !== 'fixed')
  const fixed = variables.find((v) => v.name === 'fixed')
  if (transform === undefined) throw transformError(file, 'no transform in the MAT-file')
  if (variables.filter((v) => v.name !== 'fixed').length > 1) throw transformError(file, 'more than one transform in the MAT-file (a composite, not collapsed)')
  return itkLinearToMatrix(transform.name, transform.values, fixed?.values ?? [0, 0, 0], file)
}

/** Parses elastix's parameter text: `(Name value value ...)` lines, strings quoted, `//` comments. */
export function parseElastixParameters(text: string): Map<string, (string | number)[]> {
  const entries = new Map<string, (string | number)[]>()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\/\/.*$/, '').trim()
    const match = /^\((\w+)\s*(.*)\)$/.exec(line)
    if (match === null) continue
    const values = [...match[2]!.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1] : Number.isNaN(Number(m[2])) ? m[2]! : Number(m[2])))
    entries.set(match[1]!, values)
  }
  return entries
}

/**
 * Reads an elastix TransformParameters file (elastix manual, section 2.6 and appendix A): the point map
 * fixed to moving in ITK's LPS space. EulerTransform (angles about x, y, z in rad, then translation;
 * CenterOfRotationPoint; ComputeZYX), AffineTransform (matrix row-major then translation) and
 * TranslationTransform; an InitialTransformParametersFileName is composed first (`Compose`: T(x) = T1(T0(x))).
 */
export async function readElastixTransform(file: string, depth = 0): Promise<Mat4> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw transformError(file, 'cannot read the transform file', error)
  }
  const p = parseElastixParameters(text)
  const numbers = (key: string): number[] => (p.get(key) ?? []).filter((v): v is number => typeof v === 'number')
  const kind = String(p.get('Transform')?.[0] ?? '')
  const params = numbers('TransformParameters')
  const center = numbers('CenterOfRotationPoint')
  let current: Mat4
  if (kind === 'EulerTransform' && params.length === 6) {
    current = withCenter(eulerMatrix(params[0]!, params[1]!, params[2]!, String(p.get('ComputeZYX')?.[0] ?? 'false') === 'true'), params.slice(3), center.length === 3 ? center : [0, 0, 0])
  } else if (kind === 'AffineTransform' && params.length === 12) {
    current = withCenter([params.slice(0, 3), params.slice(3, 6), params.slice(6, 9)], params.slice(9), center.length === 3 ? center : [0, 0, 0])
  } else if (kind === 'TranslationTransform' && params.length === 3) {
    current = withCenter([[1, 0, 0], [0, 1, 0], [0, 0, 1]], params, [0, 0, 0])
  } else {
    throw transformError(file, `unsupported elastix transform ${JSON.stringify(kind)} with ${params.length} parameters`)
  }
  const initial = String(p.get('InitialTransformParametersFileName')?.[0] ?? 'NoInitialTransform')
  if (initial === 'NoInitialTransform') return current
  if (depth >= 8) throw transformError(file, 'initial transforms nest more than 8 deep')
  const how = String(p.get('HowToCombineTransforms')?.[0] ?? 'Compose')
  if (how !== 'Compose') throw transformError(file, `HowToCombineTransforms ${how} is not supported (only Compose)`)
  const first = await readElastixTransform(isAbsolute(initial) ? initial : resolve(dirname(file), initial), depth + 1)
  return multiply(current, first)
}

const FLIP: Mat4 = [
  [-1, 0, 0, 0],
  [0, -1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
]

/** An LPS point map as the same map in RAS (NIfTI world): F M F with F = diag(-1, -1, 1). */
export function lpsToRasTransform(lps: Mat4): Mat4 {
  return multiply(FLIP, multiply(lps, FLIP))
}

/** The rotation angle of a rigid map's 3x3 part, degrees (from its trace). */
export function rotationDegrees(m: Mat4): number {
  const trace = m[0][0] + m[1][1] + m[2][2]
  return (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI
}
