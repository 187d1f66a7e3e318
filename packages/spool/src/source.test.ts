import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PacsflowError, silentLogger, type Delivery } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { spoolSource } from './source.js'
import { closeSpool, createSpool } from './spool.js'
import type { Spool, SpoolSourceOptions } from './types.js'
import { SERIES_A, SERIES_B, sopOf, STUDY, syntheticDicom, useTempDirs } from './test-support/dicom.js'

const tempDir = useTempDirs()
const dimse = { source: 'dimse' }

async function put(spool: Spool, series: string, slice: number, seed = 0, extra: { imagesInAcquisition?: number } = {}) {
  const path = spool.incomingPath()
  await writeFile(path, syntheticDicom({ study: STUDY, series, sop: sopOf(series, slice), slice, seed, ...extra }))
  return spool.commit(path, dimse)
}

/** Opens a source and reads deliveries one at a time, each within a time limit. */
function reader(spool: Spool, options: Partial<SpoolSourceOptions> = {}) {
  const controller = new AbortController()
  const source = spoolSource(spool, { name: 'test-input', quietPeriodMs: 150, ...options })
  const iterator = source.open({ signal: controller.signal, log: silentLogger })[Symbol.asyncIterator]()
  return {
    async next(limitMs = 5_000): Promise<Delivery<DicomStudy>> {
      let timer: NodeJS.Timeout | undefined
      const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no delivery in time')), limitMs)))
      try {
        const result = await Promise.race([iterator.next(), limit])
        if (result.done === true) throw new Error('the source ended')
        return result.value
      } finally {
        clearTimeout(timer)
      }
    },
    /** Resolves true when the source yields nothing within `ms`. */
    async quiet(ms: number): Promise<boolean> {
      const pending = iterator.next()
      const outcome = await Promise.race([pending.then(() => 'yielded'), new Promise((resolve) => setTimeout(() => resolve('quiet'), ms))])
      controller.abort()
      return outcome === 'quiet'
    },
    async close(): Promise<void> {
      controller.abort()
      await iterator.return?.()
    },
  }
}

const paths = (study: DicomStudy) => study.series.flatMap((series) => series.instances.map((instance) => instance.path)).sort()

describe('spoolSource', () => {
  it('yields a complete study once, from a snapshot; ack moves it to done/ and clears the tree', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    for (let slice = 0; slice < 3; slice++) await put(spool, SERIES_A, slice)
    await put(spool, SERIES_B, 0)
    const source = reader(spool)
    const delivery = await source.next()
    expect(delivery.id).toBe(`${STUDY}.g1`)
    expect(delivery.value.studyInstanceUid).toBe(STUDY)
    expect(delivery.value.series.map((s) => s.instances.length)).toEqual([3, 1])
    const snapshot = join(spool.dir, 'jobs', `${STUDY}.g1`)
    expect(paths(delivery.value).every((path) => path.startsWith(snapshot))).toBe(true)
    expect(JSON.parse(JSON.stringify(delivery.value))).toEqual(delivery.value)
    await delivery.ack()
    expect(existsSync(snapshot)).toBe(false)
    expect(existsSync(join(spool.dir, STUDY))).toBe(false)
    expect((await readdir(join(spool.dir, 'done', `${STUDY}.g1`, SERIES_A))).sort()).toEqual([0, 1, 2].map((k) => `${sopOf(SERIES_A, k)}.dcm`).sort())
    expect(JSON.parse(await readFile(join(spool.dir, 'state', `${STUDY}.json`), 'utf8'))).toMatchObject({ generation: 1, settled: { generation: 1, outcome: 'acked' } })
    await delivery.ack() // idempotent
    expect(await source.quiet(400)).toBe(true)
  })

  it('yields an unacknowledged study again with the same id after a restart', async () => {
    const dir = join(await tempDir(), 'spool')
    const spool = await createSpool({ dir })
    await put(spool, SERIES_A, 0)
    await put(spool, SERIES_A, 1)
    const first = reader(spool)
    const delivery = await first.next()
    await first.close()
    closeSpool(spool)

    const restarted = await createSpool({ dir })
    const second = reader(restarted, { quietPeriodMs: 60_000 })
    const again = await second.next(2_000) // at once: it was handed on before the restart
    expect(again.id).toBe(delivery.id)
    expect(paths(again.value)).toEqual(paths(delivery.value))
    await again.ack()
    expect(existsSync(join(dir, 'done', `${STUDY}.g1`))).toBe(true)
    await second.close()
  })

  it('after a restart, a study that was still receiving waits a quiet period, then is yielded', async () => {
    const dir = join(await tempDir(), 'spool')
    const spool = await createSpool({ dir })
    await put(spool, SERIES_A, 0)
    closeSpool(spool)
    const restarted = await createSpool({ dir })
    const source = reader(restarted, { quietPeriodMs: 300 })
    const started = Date.now()
    const delivery = await source.next()
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(delivery.id).toBe(`${STUDY}.g1`)
    await source.close()
  })

  it('reject moves the generation to failed/ with error.json', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    await put(spool, SERIES_A, 0)
    const source = reader(spool)
    const delivery = await source.next()
    await delivery.reject(new PacsflowError('SELECTION_MISSING', 'no GRE series'))
    const failed = join(spool.dir, 'failed', `${STUDY}.g1`)
    expect(JSON.parse(await readFile(join(failed, 'error.json'), 'utf8'))).toMatchObject({ code: 'SELECTION_MISSING', message: 'no GRE series' })
    expect(await readdir(join(failed, SERIES_A))).toEqual([`${sopOf(SERIES_A, 0)}.dcm`])
    expect(existsSync(join(spool.dir, STUDY))).toBe(false)
    expect(await readdir(join(spool.dir, 'jobs'))).toEqual([])
    await source.close()
  })

  it("late instances while a generation is in flight: its files stay valid, and 'new-job' hands on .g2 with everything", async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    await put(spool, SERIES_A, 0)
    await put(spool, SERIES_A, 1)
    const source = reader(spool)
    const g1 = await source.next()
    await put(spool, SERIES_B, 0)
    const g2 = await source.next()
    expect(g2.id).toBe(`${STUDY}.g2`)
    expect(g2.value.series.map((s) => s.instances.length)).toEqual([2, 1])
    expect(paths(g1.value).every((path) => existsSync(path))).toBe(true)
    await g1.ack()
    expect(existsSync(join(spool.dir, STUDY))).toBe(true) // the tree stays for g2
    expect(paths(g2.value).every((path) => existsSync(path))).toBe(true)
    await g2.ack()
    expect(existsSync(join(spool.dir, STUDY))).toBe(false)
    expect((await readdir(join(spool.dir, 'done'))).sort()).toEqual([`${STUDY}.g1`, `${STUDY}.g2`])
    await source.close()
  })

  it("an instance arriving after the study was acknowledged brings the kept files back into .g2 ('new-job')", async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    await put(spool, SERIES_A, 0)
    const source = reader(spool)
    await (await source.next()).ack()
    await put(spool, SERIES_B, 0)
    const g2 = await source.next()
    expect(g2.id).toBe(`${STUDY}.g2`)
    expect(g2.value.series.map((s) => s.seriesInstanceUid)).toEqual([SERIES_A, SERIES_B])
    await source.close()
  })

  it("with retention 'delete', nothing is kept but the generation count", async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    await put(spool, SERIES_A, 0)
    const source = reader(spool, { retention: 'delete' })
    await (await source.next()).ack()
    expect(await readdir(join(spool.dir, 'done'))).toEqual([])
    expect(existsSync(join(spool.dir, STUDY))).toBe(false)
    await put(spool, SERIES_A, 1)
    const g2 = await source.next()
    expect(g2.id).toBe(`${STUDY}.g2`)
    expect(g2.value.series[0]!.instances.map((i) => i.sopInstanceUid)).toEqual([sopOf(SERIES_A, 1)])
    await source.close()
  })

  it("latePolicy 'ignore' drops late instances; 'error' moves them to failed/ with the reason", async () => {
    for (const latePolicy of ['ignore', 'error'] as const) {
      const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
      await put(spool, SERIES_A, 0)
      const source = reader(spool, { latePolicy })
      await (await source.next()).ack()
      await put(spool, SERIES_A, 1)
      expect(await source.quiet(600)).toBe(true)
      expect(existsSync(join(spool.dir, STUDY))).toBe(false)
      const failed = (await readdir(join(spool.dir, 'failed'))).filter((name) => name.includes('.late-'))
      if (latePolicy === 'ignore') expect(failed).toEqual([])
      else {
        expect(failed).toHaveLength(1)
        expect(JSON.parse(await readFile(join(spool.dir, 'failed', failed[0]!, 'error.json'), 'utf8'))).toMatchObject({ code: 'SPOOL_LATE_INSTANCES' })
        expect(await readdir(join(spool.dir, 'failed', failed[0]!, SERIES_A))).toEqual([`${sopOf(SERIES_A, 1)}.dcm`])
      }
    }
  })

  it('completes early when ImagesInAcquisition is met, long before the quiet period', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    const source = reader(spool, { quietPeriodMs: 30_000, earlyGraceMs: 50 })
    for (let slice = 0; slice < 3; slice++) await put(spool, SERIES_A, slice, 0, { imagesInAcquisition: 3 })
    const delivery = await source.next(3_000)
    expect(delivery.value.series[0]!.instances).toHaveLength(3)
    await source.close()
  })

  it('holds studies back while isReceiving() says the feeding source is still taking files in', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    let receiving = true
    const source = reader(spool, { quietPeriodMs: 100, isReceiving: () => receiving })
    await put(spool, SERIES_A, 0)
    const pending = source.next(5_000)
    const early = await Promise.race([pending.then(() => 'yielded'), new Promise((resolve) => setTimeout(() => resolve('held'), 500))])
    expect(early).toBe('held')
    receiving = false
    const started = Date.now()
    expect((await pending).id).toBe(`${STUDY}.g1`)
    expect(Date.now() - started).toBeLessThan(3_000) // the 100 ms quiet period, with room for a loaded machine
    await source.close()
  })

  it('hands on only the newest version of an instance received twice with different bytes', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    await put(spool, SERIES_A, 0, 0)
    expect((await put(spool, SERIES_A, 0, 7)).status).toBe('new-version')
    const source = reader(spool)
    const delivery = await source.next()
    const [only] = paths(delivery.value)
    expect(only!.endsWith('.v2.dcm')).toBe(true)
    expect(new Uint8Array(await readFile(only!))).toEqual(syntheticDicom({ study: STUDY, series: SERIES_A, sop: sopOf(SERIES_A, 0), slice: 0, seed: 7 }))
    await source.close()
  })

  it('ends promptly when its signal aborts, and lets one source read a spool at a time', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    const controller = new AbortController()
    const iterator = spoolSource(spool, { name: 'a' }).open({ signal: controller.signal, log: silentLogger })[Symbol.asyncIterator]()
    const pending = iterator.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const other = spoolSource(spool, { name: 'b' }).open({ signal: new AbortController().signal, log: silentLogger })[Symbol.asyncIterator]()
    await expect(other.next()).rejects.toMatchObject({ code: 'SPOOL_BUSY' })
    const started = Date.now()
    controller.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(Date.now() - started).toBeLessThan(3_000) // promptly: not ended, it would wait for ever
    // A newer open under the same name (the runner reopening, a new spoolSource per open) takes over.
    const first = spoolSource(spool, { name: 'same' }).open({ signal: new AbortController().signal, log: silentLogger })[Symbol.asyncIterator]()
    const firstNext = first.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const later = new AbortController()
    const second = spoolSource(spool, { name: 'same', quietPeriodMs: 100 }).open({ signal: later.signal, log: silentLogger })[Symbol.asyncIterator]()
    const secondNext = second.next()
    expect(await Promise.race([firstNext, new Promise((resolve) => setTimeout(() => resolve('still running'), 300))])).toEqual({ done: true, value: undefined })
    await put(spool, SERIES_A, 0)
    expect((await secondNext).value?.id).toBe(`${STUDY}.g1`)
    later.abort()
    expect(() => spoolSource(spool, { name: '../bad' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => spoolSource({ ...spool }, { name: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })
})
