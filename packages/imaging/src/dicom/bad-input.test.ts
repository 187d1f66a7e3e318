// Bad input: each kind of broken file gets its own code naming the file, and indexDicom reports it beside the good ones.
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isPacsflowError, type PacsflowError } from '@pacsflow/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveTools } from '../test-support/tools.js'
import { indexDicom, readDicomDataset, readDicomHeader, readFramePixels } from './index.js'
import { dataDir, sh, unpackSeries, withTransferSyntax } from './test-fixtures.js'

let scratch = ''
let good: string[] = []
const bad = new Map<string, string>()

async function failure(promise: Promise<unknown>): Promise<PacsflowError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  if (!isPacsflowError(error)) throw new Error(`expected a PacsflowError, got ${String(error)}`)
  return error
}

function badFile(name: string): string {
  const path = bad.get(name)
  if (path === undefined) throw new Error(`no bad file ${name}`)
  return path
}

describe.skipIf(dataDir === undefined || !haveTools('dcmodify'))('bad input', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-bad-'))
    const unpacked = await unpackSeries('siemens2', join(scratch, 'in', 'good'))
    good = unpacked.slice(0, 5)
    const bytes = await readFile(unpacked[5] as string)
    await Promise.all(unpacked.slice(5).map((path) => rm(path)))
    const dir = join(scratch, 'in', 'bad')
    await mkdir(dir, { recursive: true })
    const put = async (name: string, data: Uint8Array): Promise<void> => {
      bad.set(name, join(dir, name))
      await writeFile(join(dir, name), data)
    }
    await put('not-dicom.txt', new TextEncoder().encode('just some text, no DICM here\n'.repeat(20)))
    await put('cut-in-pixels.dcm', bytes.subarray(0, bytes.length - 1000))
    await put('cut-in-header.dcm', bytes.subarray(0, 5000))
    await put('unsupported-syntax.dcm', withTransferSyntax(bytes, '1.2.840.10008.1.2.4.100'))
    for (const [name, args] of [['no-pixels.dcm', ['-e', '(7fe0,0010)']], ['hostile-uid.dcm', ['-m', '(0020,000e)=../x']]] as const) {
      await put(name, bytes)
      await sh('dcmodify', ['-nb', ...args, join(dir, name)])
    }
    // A pacsflow temporary file is not input, even when it is a perfectly good DICOM file.
    await writeFile(join(dir, '.e1_02.dcm.pacsflow-tmp'), bytes)
  }, 60_000)

  afterAll(async () => {
    if (scratch !== '') await rm(scratch, { recursive: true, force: true })
  })

  it('refuses a file that is not DICOM: DICOM_INVALID', async () => {
    const error = await failure(readDicomHeader(badFile('not-dicom.txt')))
    expect(error).toMatchObject({ code: 'DICOM_INVALID', details: { path: badFile('not-dicom.txt') } })
    expect(error.message).toContain(badFile('not-dicom.txt'))
    await expect(readDicomDataset(badFile('not-dicom.txt'))).rejects.toMatchObject({ code: 'DICOM_INVALID' })
  })

  it('refuses files cut in the pixel data or in the header: DICOM_TRUNCATED', async () => {
    for (const name of ['cut-in-pixels.dcm', 'cut-in-header.dcm']) {
      const error = await failure(readDicomHeader(badFile(name)))
      expect(error, name).toMatchObject({ code: 'DICOM_TRUNCATED', details: { path: badFile(name) } })
      expect(error.message).toContain(badFile(name))
    }
  })

  it('indexes a file without pixel data, and readFramePixels says DICOM_NO_PIXEL_DATA', async () => {
    const instance = await readDicomHeader(badFile('no-pixels.dcm'))
    expect(instance.hasPixelData).toBe(false)
    const error = await failure(readFramePixels(instance))
    expect(error).toMatchObject({ code: 'DICOM_NO_PIXEL_DATA', details: { path: badFile('no-pixels.dcm') } })
  })

  it('refuses a hostile SeriesInstanceUID: UID_INVALID', async () => {
    const error = await failure(readDicomHeader(badFile('hostile-uid.dcm')))
    expect(error).toMatchObject({ code: 'UID_INVALID', details: { path: badFile('hostile-uid.dcm'), value: '../x' } })
  })

  it('refuses a transfer syntax nothing here decodes: DICOM_UNSUPPORTED_TRANSFER_SYNTAX', async () => {
    const error = await failure(readDicomHeader(badFile('unsupported-syntax.dcm')))
    expect(error).toMatchObject({ code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX', details: { transferSyntaxUid: '1.2.840.10008.1.2.4.100' } })
    expect(error.message).toContain(badFile('unsupported-syntax.dcm'))
  })

  it('indexes the good files and reports every bad one with its code, skipping temporary files', async () => {
    const missing = join(scratch, 'in', 'gone.dcm')
    const { instances, problems } = await indexDicom(join(scratch, 'in'), { concurrency: 3 })
    expect(instances.map((instance) => instance.path).sort()).toEqual([...good, badFile('no-pixels.dcm')].sort())
    const codes = Object.fromEntries(problems.map((problem) => [problem.path, problem.error.code]))
    expect(codes).toEqual({
      [badFile('not-dicom.txt')]: 'DICOM_INVALID',
      [badFile('cut-in-pixels.dcm')]: 'DICOM_TRUNCATED',
      [badFile('cut-in-header.dcm')]: 'DICOM_TRUNCATED',
      [badFile('unsupported-syntax.dcm')]: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
      [badFile('hostile-uid.dcm')]: 'UID_INVALID',
    })
    const listed = await indexDicom([good[0] as string, missing])
    expect(listed.instances).toHaveLength(1)
    expect(listed.problems).toEqual([{ path: missing, error: expect.objectContaining({ code: 'DICOM_INVALID' }) }])
  })

  it('stops on abort with ABORTED', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(indexDicom(join(scratch, 'in'), { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('reports a file that shrank after it was indexed', async () => {
    const copy = join(scratch, 'shrinks.dcm')
    await writeFile(copy, await readFile(good[1] as string))
    const instance = await readDicomHeader(copy)
    await truncate(copy, instance.sizeBytes - 100)
    await expect(readFramePixels(instance)).rejects.toMatchObject({ code: 'DICOM_TRUNCATED', details: { path: copy } })
  })
})
