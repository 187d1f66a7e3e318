// folderOutput on real series: atomic and complete files only, nothing overwritten unless asked, resumable.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger, TEMP_SUFFIX, type StageContext } from '@pacsflow/core'
import { groupStudies, indexDicom, readDicomDataset, writePart10, type DicomSeries } from '@pacsflow/imaging'
import { testDataDir } from '@pacsflow/testkit'
import { folderOutput, writeToFolder } from './folder-output.js'

const dataDir = testDataDir()

function context(signal = new AbortController().signal): StageContext {
  return { jobId: 'j', stage: 'folder-output', attempt: 1, signal, workDir: tmpdir(), log: silentLogger, slots: {}, progress: () => {} }
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort()
}

describe.skipIf(dataDir === undefined)('folderOutput', () => {
  let scratch: string
  let series: DicomSeries
  let out = ''
  let outputs = 0
  const freshOut = (): string => (out = join(scratch, `out-${++outputs}`))

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-folder-output-'))
    cpSync(join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In'), join(scratch, 'in'), { recursive: true })
    series = groupStudies((await indexDicom(join(scratch, 'in'))).instances)[0]!.series[0]!
  })
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('writes a flat folder of <SOPInstanceUID>.dcm, byte for byte, and nothing else', async () => {
    const receipt = await folderOutput({ dir: freshOut() }).run(series, context())
    expect(receipt).toMatchObject({ written: 72, unchanged: 0, overwritten: 0, layout: 'flat' })
    expect(listFiles(out)).toEqual(series.instances.map((instance) => `${instance.sopInstanceUid}.dcm`).sort())
    for (const instance of series.instances) {
      expect(readFileSync(join(out, `${instance.sopInstanceUid}.dcm`)).equals(readFileSync(instance.path))).toBe(true)
    }
  })

  it('lays out Patient/Study/Series folders, from paths as well as from a series', async () => {
    const receipt = await writeToFolder({ files: [join(scratch, 'in')] }, { dir: freshOut(), layout: 'patient-study-series' })
    const first = series.instances[0]!
    const folder = join(out, first.patientId ?? 'UNKNOWN', first.studyInstanceUid, first.seriesInstanceUid)
    expect(receipt.written).toBe(72)
    expect(readdirSync(folder)).toHaveLength(72)
    expect(receipt.files.every((file) => file.path.startsWith(folder))).toBe(true)
  })

  it('a second run finds every file unchanged, and cleans temporaries an interrupted run left', async () => {
    const dir = freshOut()
    await writeToFolder(series, { dir })
    const stale = join(dir, `.${series.instances[0]!.sopInstanceUid}.dcm.0123456789ab${TEMP_SUFFIX}`)
    writeFileSync(stale, 'half a file')
    const again = await writeToFolder(series, { dir })
    expect(again).toMatchObject({ written: 0, unchanged: 72 })
    expect(existsSync(stale)).toBe(false)
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([])
  })

  it('leaves a different file that holds a name alone, writes the rest, and fails FOLDER_OUTPUT_EXISTS; overwrite replaces it', async () => {
    const dir = freshOut()
    mkdirSync(dir)
    const taken = join(dir, `${series.instances[3]!.sopInstanceUid}.dcm`)
    writeFileSync(taken, 'someone else\'s file')
    const error = await writeToFolder(series, { dir }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'FOLDER_OUTPUT_EXISTS', details: { conflicts: [{ path: taken, source: series.instances[3]!.path }] } })
    expect(readFileSync(taken, 'utf8')).toBe('someone else\'s file')
    expect(listFiles(dir)).toHaveLength(72)
    const replaced = await writeToFolder(series, { dir, overwrite: true })
    expect(replaced).toMatchObject({ overwritten: 1, unchanged: 71, written: 0 })
    expect(readFileSync(taken).equals(readFileSync(series.instances[3]!.path))).toBe(true)
  })

  it('a watcher polling the folder never sees a partial file, even a 64 MB one', async () => {
    const template = await readDicomDataset(series.instances[0]!.path)
    const bigSop = '1.2.826.0.1.3680043.8.498.1'
    const big = join(scratch, 'big.dcm')
    writeFileSync(big, writePart10({
      meta: { ...template.meta, '00020003': { vr: 'UI', Value: [bigSop] } },
      dict: { ...template.dict, '00080018': { vr: 'UI', Value: [bigSop] }, '00280010': { vr: 'US', Value: [4096] }, '00280011': { vr: 'US', Value: [8192] }, '7FE00010': { vr: 'OW', Value: [new Uint16Array(4096 * 8192).buffer] } },
    }))
    const sizes = new Map(series.instances.map((instance) => [`${instance.sopInstanceUid}.dcm`, statSync(instance.path).size]))
    sizes.set(`${bigSop}.dcm`, statSync(big).size)
    const dir = freshOut()
    mkdirSync(dir)
    let polls = 0
    const partial: string[] = []
    let writing = true
    const watcher = (async () => {
      while (writing) {
        for (const name of readdirSync(dir)) {
          if (name.startsWith('.')) continue
          const size = statSync(join(dir, name), { throwIfNoEntry: false })?.size
          if (size !== sizes.get(name)) partial.push(`${name}: ${size}`)
        }
        polls++
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    await writeToFolder({ files: [big, join(scratch, 'in')] }, { dir })
    writing = false
    await watcher
    expect(polls).toBeGreaterThan(10)
    expect(partial).toEqual([])
    expect(readdirSync(dir)).toHaveLength(73)
  }, 60_000)

  it('refuses a UID that would escape the folder before writing anything', async () => {
    const hostile: DicomSeries = { ...series, instances: [series.instances[0]!, { ...series.instances[1]!, sopInstanceUid: '../../../tmp/x' }] }
    const dir = freshOut()
    await expect(writeToFolder(hostile, { dir })).rejects.toMatchObject({ code: 'UID_INVALID' })
    expect(existsSync(dir)).toBe(false)
  })

  it('stops with ABORTED when its signal aborts', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(folderOutput({ dir: freshOut() }).run(series, context(controller.signal))).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('checks its options at once', () => {
    for (const bad of [{ dir: '' }, { dir: 'x', layout: 'by-date' }, { dir: 'x', concurrency: 0 }, { dir: 'x', overwrite: 'yes' }]) {
      expect(() => folderOutput(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    }
  })
})
