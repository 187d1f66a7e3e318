// dimseInput through the runner: studies pushed by storescu are yielded once complete and acknowledged; closing finishes the C-STORE in flight.
import { readdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRunner, defineStage, memoryJobStore, pipeline, sleep } from '@pacsflow/core'
import { readDicomHeader, type DicomStudy } from '@pacsflow/imaging'
import { createSpool, type Spool } from '@pacsflow/spool'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { dimseInput, startStoreScp, type StoreEvent, type StoreScp } from './index.js'
import { removeDir, spoolInstances, storescu, tempDir } from './test-support/dicom-files.js'

const dataDir = testDataDir()
const ready = haveTools('storescu') && dataDir !== undefined

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

describe.skipIf(!ready)('dimseInput', () => {
  let scratch: string
  let fieldMap: string[]
  let enhanced: string[]

  beforeAll(() => {
    scratch = tempDir('input')
    fieldMap = copyTestSeries('dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'fieldmap'), dataDir)
    enhanced = copyTestSeries('dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', join(scratch, 'enhanced'), dataDir)
  })
  afterAll(() => removeDir(scratch))

  it('yields each pushed study once complete, the runner acknowledges it, and stopping closes the receiver', async () => {
    const spoolDir = join(scratch, 'spool')
    const seen: { study: string; instances: number }[] = []
    const record = defineStage({
      name: 'record',
      run: async (study: DicomStudy) => {
        seen.push({ study: study.studyInstanceUid, instances: study.series.reduce((n, series) => n + series.instances.length, 0) })
        return { study: study.studyInstanceUid }
      },
    })
    let scp: StoreScp | undefined
    const source = dimseInput({ aet: 'PACSFLOW', port: 0, spool: spoolDir, quietPeriodMs: 1_500, onListening: (running) => (scp = running) })
    const runner = createRunner({ source, pipeline: pipeline(record), store: memoryJobStore() })
    await runner.start()
    try {
      for (let waited = 0; scp === undefined && waited < 10_000; waited += 20) await sleep(20)
      const result = await storescu(['-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp!.port), ...fieldMap, ...enhanced])
      expect(result.code, result.output).toBe(0)
      const uids = await Promise.all([fieldMap[0]!, enhanced[0]!].map(async (file) => (await readDicomHeader(file)).studyInstanceUid))
      const expected = new Map([[uids[0]!, 72], [uids[1]!, 4]])
      // The latest delivery of each study; a stall on a loaded machine longer than the quiet period
      // can make an early, partial generation, which the complete one then supersedes.
      const latest = () => new Map(seen.map((s) => [s.study, s.instances]))
      const complete = () => [...expected].every(([uid, count]) => latest().get(uid) === count)
      for (let waited = 0; !complete() && waited < 20_000; waited += 50) await sleep(50)
      expect([...latest()].sort()).toEqual([...expected].sort())
      expect(seen.every((s) => s.instances <= expected.get(s.study)!), JSON.stringify(seen)).toBe(true)
      // Acknowledged by the runner: every generation it was handed is in the spool's done/.
      const generations = () => readdirSync(join(spoolDir, 'done'))
      for (let waited = 0; generations().length < seen.length && waited < 5000; waited += 50) await sleep(50)
      expect(generations().every((name) => /\.g\d+$/.test(name)), generations().join()).toBe(true)
      expect(generations()).toHaveLength(seen.length)
      expect([...new Set(generations().map((name) => name.replace(/\.g\d+$/, '')))].sort()).toEqual([...uids].sort())
    } finally {
      await runner.stop()
    }
    expect(await listening(scp!.port)).toBe(false)
  }, 60_000)

  it('closing lets the C-STORE in flight commit and be answered success, then ends the association', async () => {
    const spool = await createSpool({ dir: join(scratch, 'spool-close') })
    let scp: StoreScp | undefined
    let closing: Promise<void> | undefined
    // A slow commit, during which the receiver is told to close.
    const slow: Spool = {
      ...spool,
      commit: async (path, provenance) => {
        closing ??= scp!.close()
        await sleep(300)
        return spool.commit(path, provenance)
      },
    }
    const events: StoreEvent[] = []
    scp = await startStoreScp({ aet: 'PACSFLOW', port: 0, spool: slow, onStore: (event) => events.push(event) })
    const result = await storescu(['-v', '-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...fieldMap.slice(0, 5)])
    await closing
    expect(result.output).toMatch(/Received Store Response \(Success\)/)
    expect(result.code).not.toBe(0)
    expect(events.map((event) => event.status)).toEqual([0])
    expect(spoolInstances(spool.dir)).toHaveLength(1)
    expect(readdirSync(join(spool.dir, 'incoming'))).toEqual([])
    expect(await listening(scp.port)).toBe(false)
  }, 30_000)
})
