// Test helpers: temp folders, the data set bytes and meta fields of a Part 10 file, DCMTK runs, and a SOP instance index of a folder.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export const run = promisify(execFile)

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pacsflow-dimse-${prefix}-`))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Offset of the data set: after the preamble, `DICM` and group 0002, whose length (0002,0000) gives (PS3.10 7.1). */
export function datasetOffset(bytes: Uint8Array): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  if (buffer.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 file')
  if (buffer.readUInt32LE(132) !== 0x00000002 || buffer.toString('latin1', 136, 138) !== 'UL') throw new Error('no (0002,0000) group length')
  return 144 + buffer.readUInt32LE(140)
}

export function datasetBytes(path: string): Buffer {
  const bytes = readFileSync(path)
  return bytes.subarray(datasetOffset(bytes))
}

/** The string values of the meta group (explicit VR little endian), by tag, e.g. '00020010'. */
export function metaFields(path: string): Record<string, string> {
  const bytes = readFileSync(path)
  const end = datasetOffset(bytes)
  const out: Record<string, string> = {}
  for (let at = 132; at < end; ) {
    const tag = `${bytes.readUInt16LE(at).toString(16).padStart(4, '0')}${bytes.readUInt16LE(at + 2).toString(16).padStart(4, '0')}`
    const vr = bytes.toString('latin1', at + 4, at + 6)
    const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr)
    const length = long ? bytes.readUInt32LE(at + 8) : bytes.readUInt16LE(at + 6)
    const start = at + (long ? 12 : 8)
    out[tag] = vr === 'OB' ? bytes.subarray(start, start + length).toString('hex') : bytes.toString('latin1', start, start + length).replace(/[\0 ]+$/, '')
    at = start + length
  }
  return out
}

/** DCMTK storescu with TCP_NODELAY=1; resolves with its exit code and output (never rejects). */
export async function storescu(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('storescu', [...args], { env: { ...process.env, TCP_NODELAY: '1', ...env }, maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

export interface CompressedSet {
  readonly name: string
  readonly transferSyntaxUid: string
  /** The storescu option that proposes this syntax (its default proposes uncompressed ones only). */
  readonly propose: string
  readonly files: string[]
}

/** One compressed copy of `files` per codec, made by DCMTK and GDCM. */
export async function compressedCopies(files: readonly string[], dir: string): Promise<CompressedSet[]> {
  const codecs = [
    { name: 'jpeg-lossless-sv1', transferSyntaxUid: '1.2.840.10008.1.2.4.70', propose: '-xs', tool: 'dcmcjpeg', args: [] as string[] },
    { name: 'jpeg-extended', transferSyntaxUid: '1.2.840.10008.1.2.4.51', propose: '-xx', tool: 'dcmcjpeg', args: ['+ee'] },
    { name: 'rle', transferSyntaxUid: '1.2.840.10008.1.2.5', propose: '-xr', tool: 'dcmcrle', args: [] },
    { name: 'jpeg-ls', transferSyntaxUid: '1.2.840.10008.1.2.4.80', propose: '-xt', tool: 'dcmcjpls', args: [] },
    { name: 'jpeg-2000', transferSyntaxUid: '1.2.840.10008.1.2.4.90', propose: '-xv', tool: 'gdcmconv', args: ['--j2k'] },
  ]
  const out: CompressedSet[] = []
  for (const codec of codecs) {
    const copies: string[] = []
    for (const [n, file] of files.entries()) {
      const target = join(dir, `${codec.name}-${n}.dcm`)
      await run(codec.tool, [...codec.args, file, target])
      copies.push(target)
    }
    out.push({ name: codec.name, transferSyntaxUid: codec.transferSyntaxUid, propose: codec.propose, files: copies })
  }
  return out
}

/** The data set bytes of every stored instance of a spool, by SOP Instance UID (from its meta group). */
export function storedDatasets(files: readonly string[]): Map<string, Buffer> {
  return new Map(files.map((path) => [metaFields(path)['00020003']!, datasetBytes(path)]))
}

/** Every instance file in a spool's study trees (`<spool>/<study>/<series>/<sop>[.vN].dcm`), sorted. */
export function spoolInstances(spoolDir: string): string[] {
  const out: string[] = []
  for (const study of readdirSync(spoolDir)) {
    if (!/^[0-9.]+$/.test(study)) continue
    for (const entry of readdirSync(join(spoolDir, study), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.dcm')) out.push(join(entry.parentPath, entry.name))
    }
  }
  return out.sort()
}
