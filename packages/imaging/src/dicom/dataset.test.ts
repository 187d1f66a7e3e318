// The dcmjs facade: raw datasets keep private tags, naturalize gives keywords, header-only reads stop before pixel data.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { naturalize, rawElement, rawValue, readDicomDataset, readDicomHeader, readPart10, tagKey } from './index.js'
import { dataDir, unpackSeries } from './test-fixtures.js'

const made: string[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('tagKey', () => {
  it('spells tags the way dcmjs keys them', () => {
    expect([tagKey(0x2005_100e), tagKey('(2005,100e)'), tagKey('0020000d'), tagKey(0x0008_0018)]).toEqual(['2005100E', '2005100E', '0020000D', '00080018'])
  })
})

describe.skipIf(dataDir === undefined)('readDicomDataset and the dcmjs facade', () => {
  it('keeps Philips private tags in the raw dataset and names public ones in the natural one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-dataset-'))
    made.push(dir)
    const [file] = await unpackSeries('philips', dir)
    const dataset = await readDicomDataset(file as string)
    const instance = await readDicomHeader(file as string)
    expect(rawValue(dataset.dict, 0x2005_100e)).toBeCloseTo(instance.philipsScale?.slope ?? Number.NaN, 12)
    expect(rawElement(dataset.dict, '(2005,100d)')).toMatchObject({ vr: 'FL' })
    expect(rawValue(dataset.meta, 0x0002_0010)).toBe('1.2.840.10008.1.2.1')
    const natural = naturalize(dataset.dict)
    expect(natural).toMatchObject({ StudyInstanceUID: instance.studyInstanceUid, SOPInstanceUID: instance.sopInstanceUid, Rows: 80 })
    // dcmjs 0.50 keeps private tags under their hex keys when naturalising (older versions dropped them).
    expect(natural['2005100E']).toBe(rawValue(dataset.dict, 0x2005_100e))
    const header = readPart10(await readFile(file as string), { headerOnly: true })
    expect(rawElement(header.dict, 0x7fe0_0010)).toBeUndefined()
    expect(rawValue(header.dict, 0x0020_000e)).toBe(instance.seriesInstanceUid)
  }, 60_000) // reads the whole real Philips file with dcmjs: over 10 s on a loaded CI machine
})
