// DCMTK storescu and echoscu against the receiver and a real spool: every instance arrives as sent, in every syntax; failures answered as failures.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSpool, type Spool } from '@pacsflow/spool'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { startStoreScp, type StoreEvent, type StoreScp, type StoreScpOptions } from './index.js'
import { compressedCopies, datasetBytes, metaFields, removeDir, run, spoolInstances, storedDatasets, storescu, tempDir } from './test-support/dicom-files.js'

const dataDir = testDataDir()
const ready = haveTools('storescu', 'echoscu', 'dcmodify', 'dcmcjpeg', 'dcmcrle', 'dcmcjpls', 'gdcmconv') && dataDir !== undefined

describe.skipIf(!ready)('receiving from DCMTK storescu', () => {
  let scratch: string
  let fieldMap: string[]
  let enhanced: string[]
  let count = 0

  beforeAll(() => {
    scratch = tempDir('receive')
    fieldMap = copyTestSeries('dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'fieldmap'), dataDir)
    enhanced = copyTestSeries('dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', join(scratch, 'enhanced'), dataDir)
  })
  afterAll(() => removeDir(scratch))

  async function receiver(options: Partial<StoreScpOptions> & { wrap?: (spool: Spool) => Spool } = {}): Promise<{ scp: StoreScp; dir: string; events: StoreEvent[] }> {
    const dir = join(scratch, `spool-${count++}`)
    const spool = await createSpool({ dir })
    const events: StoreEvent[] = []
    const { wrap, ...rest } = options
    const scp = await startStoreScp({ aet: 'PACSFLOW', port: 0, spool: wrap?.(spool) ?? spool, onStore: (event) => events.push(event), ...rest })
    return { scp, dir, events }
  }

  /**
   * Every file sent is in the spool once, its data set byte for byte what storescu sent, its meta
   * group saying how it came. storescu sends DCMTK's encoding of a file (sequences with explicit
   * lengths, for one), which is what `dcmconv` writes: that is the reference.
   */
  async function expectStored(dir: string, files: readonly string[], transferSyntaxUid: string): Promise<void> {
    const stored = storedDatasets(spoolInstances(dir))
    expect(stored.size).toBe(files.length)
    for (const file of files) {
      const sop = metaFields(file)['00020003']!
      const sent = `${file}.sent`
      await run('dcmconv', [file, sent])
      expect(stored.get(sop)?.equals(datasetBytes(sent)), file).toBe(true)
    }
    for (const path of spoolInstances(dir)) expect(metaFields(path)).toMatchObject({ '00020010': transferSyntaxUid, '00020016': 'SCANNER', '00020001': '0001' })
  }

  it('stores a classic series and enhanced multi-frame objects, data sets byte for byte, meta group from the association', async () => {
    const { scp, dir, events } = await receiver()
    try {
      const result = await storescu(['-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...fieldMap, ...enhanced])
      expect(result.code, result.output).toBe(0)
      await expectStored(dir, [...fieldMap, ...enhanced], '1.2.840.10008.1.2.1')
      const meta = metaFields(spoolInstances(dir)[0]!)
      expect(meta['00020012']).toMatch(/^2\.25\.\d+$/)
      expect(meta['00020013']).toMatch(/^PACSFLOW_/)
      expect(new Set(events.map((event) => event.sopClassUid))).toEqual(new Set(['1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.4.1']))
      expect(events.every((event) => event.status === 0 && event.commit?.status === 'stored' && event.callingAet === 'SCANNER')).toBe(true)
      expect(scp.stats()).toMatchObject({ associationsAccepted: 1, received: 76, stored: 76, failed: 0, quarantined: 0 })
    } finally {
      await scp.close()
    }
    // Closed: nothing is left in incoming/, neither an object nor a file prepared for one.
    expect(readdirSync(join(dir, 'incoming'))).toEqual([])
  }, 60_000)

  it('stores compressed objects as received: JPEG lossless and extended, RLE, JPEG-LS, JPEG 2000', async () => {
    mkdirSync(join(scratch, 'compressed'))
    const sets = await compressedCopies([...fieldMap.slice(0, 2), enhanced[0]!], join(scratch, 'compressed'))
    for (const { name, transferSyntaxUid, propose, files } of sets) {
      expect(metaFields(files[0]!)['00020010'], name).toBe(transferSyntaxUid)
      const { scp, dir } = await receiver()
      try {
        // -R: only the SOP classes of the files; `propose`: their syntax first (storescu's default is uncompressed only).
        const result = await storescu(['-R', propose, '-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...files])
        expect(result.code, `${name}: ${result.output}`).toBe(0)
        await expectStored(dir, files, transferSyntaxUid)
      } finally {
        await scp.close()
      }
    }
  }, 120_000)

  it('answers C-ECHO', async () => {
    const { scp } = await receiver()
    try {
      const { stderr } = await run('echoscu', ['-v', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port)], { env: { ...process.env, TCP_NODELAY: '1' } })
      expect(stderr).toMatch(/Received Echo Response \(Success\)/)
      expect(scp.stats()).toMatchObject({ echoes: 1, associationsAccepted: 1 })
    } finally {
      await scp.close()
    }
  })

  it('takes 4 associations at once', async () => {
    const { scp, dir } = await receiver({ maxAssociations: 4 })
    try {
      const shares = [0, 1, 2, 3].map((k) => fieldMap.filter((_, n) => n % 4 === k))
      const results = await Promise.all(shares.map((share, k) => storescu(['-aet', `SCANNER${k}`, '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...share])))
      for (const result of results) expect(result.code, result.output).toBe(0)
      expect(storedDatasets(spoolInstances(dir)).size).toBe(72)
      expect(scp.stats()).toMatchObject({ associationsAccepted: 4, associationsRejected: 0, received: 72, failed: 0 })
    } finally {
      await scp.close()
    }
  }, 60_000)

  it('refuses a hostile UID with a failure status (quarantined, never a path) and stores the rest', async () => {
    const hostile = join(scratch, 'hostile.dcm')
    await run('cp', [fieldMap[1]!, hostile])
    await run('dcmodify', ['-nb', '-m', '(0008,0018)=../x', hostile])
    const { scp, dir, events } = await receiver()
    try {
      // -nh: storescu goes on after a failure status.
      const result = await storescu(['-v', '-nh', '-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), fieldMap[0]!, hostile, fieldMap[2]!])
      expect(result.output).toMatch(/Received Store Response \(Error: CannotUnderstand\)/)
      expect(spoolInstances(dir)).toHaveLength(2)
      const refused = events.find((event) => event.sopInstanceUid === '../x')
      expect(refused).toMatchObject({ status: 0xc000, commit: { status: 'quarantined', reason: { code: 'UID_INVALID' } } })
      const quarantine = readdirSync(join(dir, 'quarantine'))
      expect(quarantine.filter((name) => name.endsWith('.reason.json'))).toHaveLength(1)
      expect(readdirSync(scratch).includes('x')).toBe(false)
      expect(scp.stats()).toMatchObject({ received: 2, quarantined: 1 })
    } finally {
      await scp.close()
    }
  }, 60_000)

  it('answers Refused: Out of Resources (0xA700), never success, when the spool cannot commit', async () => {
    const failing = (spool: Spool): Spool => ({ ...spool, commit: () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) })
    const { scp, dir, events } = await receiver({ wrap: failing })
    try {
      const result = await storescu(['-v', '-nh', '-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...fieldMap.slice(0, 2)])
      expect(result.output).toMatch(/Received Store Response \(Refused: OutOfResources/)
      expect(result.output).not.toMatch(/Received Store Response \(Success\)/)
      expect(events.map((event) => event.status)).toEqual([0xa700, 0xa700])
      expect(events[0]?.errorComment).toMatch(/ENOSPC/)
      expect(spoolInstances(dir)).toEqual([])
      expect(scp.stats()).toMatchObject({ received: 0, failed: 2 })
    } finally {
      await scp.close()
    }
    // The refused objects' files were removed, and the prepared ones with the receiver.
    expect(readdirSync(join(dir, 'incoming'))).toEqual([])
  }, 60_000)

  it('answers 0xA700 when the incoming file cannot be written', async () => {
    const unwritable = (spool: Spool): Spool => ({ ...spool, incomingPath: () => join(scratch, 'no-such-folder', 'x.dcm') })
    const { scp, events } = await receiver({ wrap: unwritable })
    try {
      await storescu(['-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), fieldMap[0]!])
      expect(events).toMatchObject([{ status: 0xa700, errorComment: expect.stringMatching(/ENOENT/) }])
    } finally {
      await scp.close()
    }
    expect(readFileSync(fieldMap[0]!).length).toBeGreaterThan(0)
  }, 60_000)
})
