import { existsSync, fstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@pacsflow/core'
import type { CommitOptions, CommitResult } from '@pacsflow/spool'
import { datasetOffset, removeDir, tempDir } from '../test-support/dicom-files.js'
import type { ReceiverSpool } from '../spool-port.js'
import { StoreOperation, type StoreRequest } from './store-operation.js'

const scratch = tempDir('store-op')
afterAll(() => removeDir(scratch))
let n = 0

/** A spool whose commit answers `answer` after checking the file it was given. */
function fakeSpool(answer: (path: string) => Promise<CommitResult>): ReceiverSpool & { readonly incoming: string; committed: Buffer[]; heads: (CommitOptions['head'] | undefined)[]; inline: (boolean | undefined)[] } {
  const incoming = join(scratch, `incoming-${n++}`)
  mkdirSync(incoming)
  const committed: Buffer[] = []
  const heads: (CommitOptions['head'] | undefined)[] = []
  const inline: (boolean | undefined)[] = []
  let k = 0
  return {
    dir: scratch,
    incoming,
    committed,
    heads,
    inline,
    incomingPath: () => join(incoming, `${k++}`),
    commit: async (path, _provenance, commitOptions) => {
      committed.push(readFileSync(path))
      // Copied: the receiver reuses the buffer once the commit is over.
      const head = commitOptions?.head
      heads.push(head === undefined ? undefined : { bytes: Buffer.from(head.bytes), size: head.size })
      inline.push(commitOptions?.flushInline)
      return answer(path)
    },
  }
}

const request: StoreRequest = {
  messageId: 3,
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  sopInstanceUid: '1.2.3.4',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  callingAet: 'SCANNER',
  provenance: { source: 'dimse', origin: 'SCANNER@127.0.0.1' },
}

function options(spool: ReceiverSpool): { spool: ReceiverSpool; log: typeof silentLogger; batchBytes: number } {
  return { spool, log: silentLogger, batchBytes: 4096 }
}

describe('one C-STORE into the spool', () => {
  it('writes the meta group and the data set as it came, commits, and answers success', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const op = new StoreOperation(request, options(spool))
    op.write(Buffer.from('first part '))
    op.write(Buffer.from('second part'))
    const outcome = await op.end()
    expect(outcome).toMatchObject({ status: 0x0000, commit: { status: 'stored' }, bytes: 22 })
    const file = spool.committed[0]!
    expect(file.subarray(datasetOffset(file)).toString()).toBe('first part second part')
  })

  it('hands the spool the head of the file (its first batch: 256 KiB by default, at least 4 KiB) and its size', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    for (const batchBytes of [1024, 5000, undefined]) {
      for (const fragments of [3, 200]) {
        const op = new StoreOperation(request, { spool, log: silentLogger, ...(batchBytes === undefined ? {} : { batchBytes }) })
        for (let k = 0; k < fragments; k++) op.write(Buffer.alloc(2000, k + 1))
        await op.end()
        const file = spool.committed.at(-1)!
        const head = spool.heads.at(-1)!
        expect(head.size).toBe(file.length)
        expect(head.bytes.length).toBe(Math.min(file.length, Math.max(4096, batchBytes ?? 256 * 1024)))
        expect(Buffer.compare(Buffer.from(head.bytes), file.subarray(0, head.bytes.length))).toBe(0)
      }
    }
  })

  it('copies what it is given before write returns: the caller may reuse its buffer at once', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const op = new StoreOperation(request, options(spool))
    // One buffer, refilled for every fragment, as the receiver's socket reads are; fragments straddle batches.
    const lent = Buffer.alloc(700)
    for (let k = 0; k < 10; k++) {
      lent.fill(k + 1)
      op.write(lent)
    }
    lent.fill(0xee)
    await op.end()
    const file = spool.committed[0]!
    const dataSet = file.subarray(datasetOffset(file))
    expect(dataSet.length).toBe(7000)
    for (let k = 0; k < 10; k++) expect(dataSet.subarray(k * 700, (k + 1) * 700).every((byte) => byte === k + 1)).toBe(true)
    expect(spool.heads[0]!.bytes.every((byte) => byte !== 0xee)).toBe(true)
  })

  it('writes long runs past the head straight from the caller\'s buffer, short ones through a batch, every byte in order', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const op = new StoreOperation(request, options(spool))
    // One buffer refilled for every fragment: long ones (past the head: written as they are), short ones (copied), a long one after a short one.
    const lent = Buffer.alloc(200 * 1024)
    const sizes = [100 * 1024, 10, 70 * 1024, 200 * 1024, 3, 65 * 1024, 64 * 1024 - 1]
    const expected: Buffer[] = []
    sizes.forEach((size, k) => {
      for (let i = 0; i < size; i++) lent[i] = (k * 31 + i) & 0xff
      expected.push(Buffer.from(lent.subarray(0, size)))
      op.write(lent.subarray(0, size))
    })
    lent.fill(0xee)
    const outcome = await op.end()
    expect(outcome).toMatchObject({ status: 0x0000, bytes: sizes.reduce((a, b) => a + b, 0) })
    const file = spool.committed[0]!
    expect(Buffer.compare(file.subarray(datasetOffset(file)), Buffer.concat(expected))).toBe(0)
  })

  it('asks for inline fsyncs unless told, at commit time, that other associations are being served', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    let others = false
    await new StoreOperation(request, options(spool)).end()
    const op = new StoreOperation(request, { ...options(spool), flushInline: () => !others })
    op.write(Buffer.from('data'))
    others = true
    await op.end()
    expect(spool.inline).toEqual([true, false])
  })

  it('writes the head out as it fills only when it is the only association', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const data = Buffer.alloc(150 * 1024, 9)
    const sizes: number[] = []
    for (const [k, only] of [true, false].entries()) {
      const op = new StoreOperation(request, { spool, log: silentLogger, flushInline: () => only })
      for (let at = 0; at < data.length; at += 40 * 1024) op.write(data.subarray(at, at + 40 * 1024))
      sizes.push(statSync(join(spool.incoming, String(k))).size)
      expect((await op.end()).status).toBe(0x0000)
      const file = spool.committed[k]!
      expect(Buffer.compare(file.subarray(datasetOffset(file)), data)).toBe(0)
    }
    // Alone: all but the last run of under 64 KiB written before the end; with others: nothing until then.
    expect(sizes[0]).toBeGreaterThanOrEqual(data.length - 64 * 1024)
    expect(sizes[1]).toBe(0)
  })

  it('lends the spool its open descriptor for the flush, and closes it once the commit is over', async () => {
    let during: number | undefined
    let fd: number | undefined
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const commit = spool.commit
    spool.commit = async (path, provenance, commitOptions) => {
      fd = commitOptions?.fd
      during = fd === undefined ? undefined : fstatSync(fd).size
      return commit(path, provenance, commitOptions)
    }
    const op = new StoreOperation(request, options(spool))
    op.write(Buffer.from('data set'))
    await op.end()
    expect(during).toBe(spool.committed[0]!.length)
    expect(() => fstatSync(fd!)).toThrow(expect.objectContaining({ code: 'EBADF' }))
  })

  it('answers success for a duplicate and a new version too', async () => {
    for (const status of ['duplicate', 'new-version'] as const) {
      const op = new StoreOperation(request, options(fakeSpool(async (path) => ({ status, path }))))
      expect((await op.end()).status).toBe(0x0000)
    }
  })

  it('answers 0xC000 Cannot understand, with the reason, for what the spool quarantined', async () => {
    const op = new StoreOperation(request, options(fakeSpool(async (path) => ({ status: 'quarantined', path, reason: { code: 'UID_INVALID', message: 'bad UID' } }))))
    expect(await op.end()).toMatchObject({ status: 0xc000, errorComment: 'UID_INVALID: bad UID' })
  })

  it('answers 0xA700 Out of Resources when the commit rejects, and removes the incoming file', async () => {
    const spool = fakeSpool(() => Promise.reject(new Error('EIO: i/o error')))
    const op = new StoreOperation(request, options(spool))
    op.write(Buffer.from('data'))
    expect(await op.end()).toMatchObject({ status: 0xa700, errorComment: 'spool: EIO: i/o error' })
    expect(readdirSync(spool.incoming)).toEqual([])
  })

  it('answers 0xA700 when the spool cannot even give an incoming path', async () => {
    const spool = { ...fakeSpool(async (path) => ({ status: 'stored', path })), incomingPath: (): string => { throw new Error('EACCES: spool not writable') } }
    const op = new StoreOperation(request, options(spool))
    op.write(Buffer.from('data'))
    expect(await op.end()).toMatchObject({ status: 0xa700, errorComment: expect.stringMatching(/EACCES/) })
  })

  it('refuses a request without UIDs or with UIDs over 64 characters (0xC000) without writing anything', async () => {
    for (const change of [{ sopInstanceUid: '' }, { sopClassUid: `1.${'2'.repeat(70)}` }]) {
      const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
      const op = new StoreOperation({ ...request, ...change }, options(spool))
      op.write(Buffer.from('ignored'))
      expect(await op.end()).toMatchObject({ status: 0xc000, bytes: 7 })
      expect(spool.committed).toEqual([])
      expect(readdirSync(spool.incoming)).toEqual([])
    }
  })

  it('writes in batches as the data set arrives, so a large object never sits in memory', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const op = new StoreOperation(request, options(spool))
    for (let k = 0; k < 8; k++) op.write(Buffer.alloc(4096, k))
    // Before the last fragment: every full batch is already in the file.
    expect(statSync(join(spool.incoming, '0')).size).toBeGreaterThanOrEqual(8 * 4096)
    op.write(Buffer.from('tail'))
    await op.end()
    const file = spool.committed[0]!
    expect(file.length - datasetOffset(file)).toBe(8 * 4096 + 4)
    expect(file.subarray(datasetOffset(file) + 4096, datasetOffset(file) + 4097)[0]).toBe(1)
  })

  it('removes the partial file when the association ends mid-object, and never commits it', async () => {
    const spool = fakeSpool(async (path) => ({ status: 'stored', path }))
    const op = new StoreOperation(request, options(spool))
    op.write(Buffer.alloc(10_000))
    await op.abort()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(readdirSync(spool.incoming)).toEqual([])
    expect(spool.committed).toEqual([])
    expect(existsSync(join(spool.incoming, '0'))).toBe(false)
  })
})
