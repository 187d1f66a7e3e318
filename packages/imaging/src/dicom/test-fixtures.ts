// Test helpers for the DICOM tests: unpack the real series into a temp folder, run DCMTK, rewrite file meta.
import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { testDataDir } from '../test-support/tools.js'
import { concatBytes } from './encode.js'

/** The real-data series folders, relative to the data folder. */
export const SERIES = {
  siemens2: 'dcm_qa_fmap/Siemens_2_gre_field_magph',
  siemens3: 'dcm_qa_fmap/Siemens_3_gre_field_magph',
  xa30T1: 'dcm_qa_xa30i/5001_anat-T1w_acq-tfl',
  xa30Gre: 'dcm_qa_xa30i/gre_field_mapping_9001_9002_10001',
  philips: 'dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping',
  enhanced: 'dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8',
} as const

export type SeriesKey = keyof typeof SERIES

export const dataDir = testDataDir()

const run = promisify(execFile)

/** Runs a command, returning stdout; throws with stderr on failure. */
export async function sh(command: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(command, [...args], { maxBuffer: 256 * 1024 * 1024 })
  return stdout
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort()
}

/** Copies a series' `In/` folder to `target` and gunzips its `.dcm.gz` files; returns the DICOM paths. */
export async function unpackSeries(key: SeriesKey, target: string): Promise<string[]> {
  return unpackFolder(SERIES[key], target)
}

/** The same for any folder of the shared data, e.g. `dcm_qa_fmap/Siemens_2_gre_field_magph`. */
export async function unpackFolder(folder: string, target: string): Promise<string[]> {
  if (dataDir === undefined) throw new Error('no test data')
  await mkdir(target, { recursive: true })
  await cp(join(dataDir, folder, 'In'), target, { recursive: true })
  for (const file of await filesUnder(target)) {
    if (!file.endsWith('.gz')) continue
    await writeFile(file.slice(0, -3), gunzipSync(await readFile(file)))
    await rm(file)
  }
  return filesUnder(target)
}

/** The raw pixel data bytes DCMTK finds in a file (`dcmdump +W`: little endian, as stored). */
export async function dcmtkPixelBytes(file: string, scratch: string): Promise<Uint8Array> {
  const dir = join(scratch, `raw-${Math.random().toString(36).slice(2)}`)
  await mkdir(dir)
  await sh('dcmdump', ['-q', '+W', dir, file])
  const [raw] = (await readdir(dir)).filter((name) => name.endsWith('.raw'))
  if (raw === undefined) throw new Error(`dcmdump wrote no pixel data for ${file}`)
  const bytes = await readFile(join(dir, raw))
  await rm(dir, { recursive: true })
  return new Uint8Array(bytes)
}

/** Top-level attribute values as dcmdump prints them, by tag (`'0020,0032'` → `['-104', '-104', '-63']`). */
export async function dcmdumpValues(file: string, tags: readonly string[]): Promise<Map<string, string[]>> {
  // +p prefixes nested matches with their sequence, so a top-level line starts with the tag itself.
  const out = await sh('dcmdump', ['-q', '+L', '+p', ...tags.flatMap((tag) => ['+P', tag]), file])
  const values = new Map<string, string[]>()
  for (const line of out.split('\n')) {
    const tag = /^\(([0-9a-f]{4},[0-9a-f]{4})\) /.exec(line)?.[1]
    if (tag === undefined) continue
    const bracketed = /\[(.*)\]/.exec(line)
    values.set(tag, (bracketed?.[1] ?? line.slice(15, line.indexOf('#')).trim()).split('\\'))
  }
  return values
}

/** The file's bytes with a new TransferSyntaxUID in the meta group (the dataset bytes unchanged). */
export function withTransferSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const elements: Uint8Array[] = []
  let pos = 132
  while (view.getUint16(pos, true) === 0x0002) {
    const element = view.getUint16(pos + 2, true)
    const vr = String.fromCharCode(bytes[pos + 4] as number, bytes[pos + 5] as number)
    const long = ['OB', 'OW', 'UN', 'SQ', 'UT', 'UC', 'UR'].includes(vr)
    const length = long ? view.getUint32(pos + 8, true) : view.getUint16(pos + 6, true)
    const end = pos + (long ? 12 : 8) + length
    if (element === 0x0010) elements.push(shortElement(0x0010, 'UI', uid))
    else if (element !== 0x0000) elements.push(bytes.slice(pos, end))
    pos = end
  }
  const body = concatBytes(elements)
  const groupLength = new Uint8Array(12)
  groupLength.set([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00])
  new DataView(groupLength.buffer).setUint32(8, body.length, true)
  return concatBytes([bytes.slice(0, 132), groupLength, body, bytes.slice(pos)])
}

function shortElement(element: number, vr: string, value: string): Uint8Array {
  const text = value.length % 2 === 0 ? value : `${value}\0`
  const out = new Uint8Array(8 + text.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, 0x0002, true)
  view.setUint16(2, element, true)
  out.set([vr.charCodeAt(0), vr.charCodeAt(1)], 4)
  view.setUint16(6, text.length, true)
  for (let i = 0; i < text.length; i++) out[8 + i] = text.charCodeAt(i)
  return out
}

/** Little-endian 16-bit samples of raw bytes. */
export function uint16le(bytes: Uint8Array): Uint16Array {
  return new Uint16Array(bytes.slice().buffer)
}
