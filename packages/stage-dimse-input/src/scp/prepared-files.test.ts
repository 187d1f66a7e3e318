// Incoming files prepared in advance: created empty, handed out open, holding exactly their object, removed when unused.
import { closeSync, fstatSync, mkdirSync, readdirSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger, type Logger } from '@pacsflow/core'
import { datasetOffset, removeDir, tempDir } from '../test-support/dicom-files.js'
import type { ReceiverSpool } from '../spool-port.js'
import { readSeal, SEAL_BYTES, type CommitOptions } from '@pacsflow/spool'
import { PreparedFiles, type PreparedFile } from './prepared-files.js'
import { StoreOperation } from './store-operation.js'

const scratch = tempDir('prepared')
afterAll(() => removeDir(scratch))
let n = 0

function spoolIn(incoming: string): ReceiverSpool & { committed: Buffer[]; paths: string[]; options: (CommitOptions | undefined)[] } {
  const committed: Buffer[] = []
  const paths: string[] = []
  const options: (CommitOptions | undefined)[] = []
  let k = 0
  return {
    dir: scratch,
    committed,
    paths,
    options,
    incomingPath: () => join(incoming, `p${k++}`),
    commit: async (path, _provenance, commitOptions) => {
      committed.push(readFileSync(path))
      paths.push(path)
      // The head copied: the receiver reuses its buffer once the commit is over.
      const head = commitOptions?.head
      options.push(commitOptions === undefined ? undefined : { ...commitOptions, ...(head === undefined ? {} : { head: { bytes: Buffer.from(head.bytes), size: head.size } }) })
      return { status: 'stored', path }
    },
  }
}

function freshIncoming(): string {
  const incoming = join(scratch, `incoming-${n++}`)
  mkdirSync(incoming)
  return incoming
}

/** Takes a prepared file once one is ready (bounded: 200 tries, 10 ms apart). */
async function readyFile(files: PreparedFiles): Promise<PreparedFile> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const file = files.take()
    if (file !== undefined) return file
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('no prepared file within 2 s')
}

/** Lets a flush in the thread pool (if one was started) finish: 50 ms. */
const settle = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 50))

/** Waits until `files` has at least `count` ready (bounded like readyFile). */
async function readyCount(files: PreparedFiles, count: number): Promise<void> {
  for (let attempt = 0; attempt < 200 && files.readyCount < count; attempt++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(files.readyCount).toBeGreaterThanOrEqual(count)
}

const request = {
  messageId: 1,
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  sopInstanceUid: '1.2.3.4',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  callingAet: 'SCANNER',
  provenance: { source: 'dimse', origin: 'SCANNER@127.0.0.1' },
}

describe('PreparedFiles', () => {
  it('keeps `spare` and a batch of empty files ready in incoming/, open for writing', async () => {
    const incoming = freshIncoming()
    const files = new PreparedFiles(spoolIn(incoming), silentLogger, 2, 2)
    try {
      await readyCount(files, 4)
      expect(readdirSync(incoming)).toHaveLength(4)
      const file = await readyFile(files)
      expect(file.path.startsWith(incoming)).toBe(true)
      expect(fstatSync(file.fd).size).toBe(0)
      expect(writeSync(file.fd, 'x')).toBe(1)
      expect(readFileSync(file.path, 'utf8')).toBe('x')
      closeSync(file.fd)
    } finally {
      await files.close()
    }
  })

  it('gives C-STOREs files that end up holding exactly their object, small or large', async () => {
    const incoming = freshIncoming()
    const spool = spoolIn(incoming)
    const files = new PreparedFiles(spool, silentLogger, 1, 1)
    try {
      for (const size of [1000, 300 * 1024]) {
        await readyCount(files, 1)
        const op = new StoreOperation(request, { spool, log: silentLogger, prepared: files })
        const data = Buffer.alloc(size, 5)
        op.write(data)
        expect((await op.end()).status).toBe(0x0000)
        // As the receiver does once it has written the answer.
        files.replenish()
        const file = spool.committed.at(-1)!
        expect(file.length).toBe(datasetOffset(file) + size)
        expect(Buffer.compare(file.subarray(datasetOffset(file)), data)).toBe(0)
      }
      // Both were prepared files (p0 at the start, p1 made when p0 was taken); a file made on the spot would be p2.
      expect(spool.paths).toEqual([join(incoming, 'p0'), join(incoming, 'p1')])
      // Sealed with their size, in the file and in the head: the small one's head was still in memory, the large one's was written over.
      for (const [k, file] of spool.committed.entries()) {
        expect(readSeal(file.subarray(0, SEAL_BYTES)), `object ${k}`).toEqual({ size: file.length, provenance: request.provenance })
        expect(spool.options[k]).toMatchObject({ sealed: true, head: { size: file.length } })
        const head = spool.options[k]!.head!.bytes
        expect(Buffer.compare(Buffer.from(head), file.subarray(0, head.length)), `object ${k}`).toBe(0)
      }
      // A file made on the spot (none prepared) has no durable name yet: not sealed, answered once placed.
      const unprepared = new StoreOperation(request, { spool, log: silentLogger })
      unprepared.write(Buffer.alloc(100, 1))
      expect((await unprepared.end()).status).toBe(0x0000)
      expect(spool.options.at(-1)).toMatchObject({ sealed: false })
      expect(readSeal(spool.committed.at(-1)!.subarray(0, SEAL_BYTES))).toBeUndefined()
    } finally {
      await files.close()
    }
  })

  it('writes the head out as it fills, and seals it over the file for an object smaller than the head', async () => {
    const incoming = freshIncoming()
    const spool = spoolIn(incoming)
    const files = new PreparedFiles(spool, silentLogger, 1, 1)
    try {
      await readyCount(files, 1)
      const op = new StoreOperation(request, { spool, log: silentLogger, prepared: files })
      const data = Buffer.alloc(150 * 1024)
      for (let k = 0; k < data.length; k++) data[k] = (k * 7) & 0xff
      // 40 KiB fragments, as a socket delivers them, into the 256 KiB head.
      for (let at = 0; at < data.length; at += 40 * 1024) op.write(data.subarray(at, at + 40 * 1024))
      // Before the last fragment's end: all but the last run of under 64 KiB is in the file already.
      const path = join(incoming, 'p0')
      expect(readFileSync(path).length).toBeGreaterThanOrEqual(data.length - 64 * 1024)
      expect((await op.end()).status).toBe(0x0000)
      const file = spool.committed[0]!
      expect(file.length).toBe(datasetOffset(file) + data.length)
      expect(Buffer.compare(file.subarray(datasetOffset(file)), data)).toBe(0)
      expect(readSeal(file.subarray(0, SEAL_BYTES))).toEqual({ size: file.length, provenance: request.provenance })
      expect(spool.options[0]).toMatchObject({ sealed: true, head: { size: file.length } })
      expect(Buffer.compare(Buffer.from(spool.options[0]!.head!.bytes), file)).toBe(0)
    } finally {
      await files.close()
    }
  })

  it('prepares the next file only when asked to replenish, not when one is taken', async () => {
    const incoming = freshIncoming()
    // spare 1 + a batch of 1: two at the start.
    const files = new PreparedFiles(spoolIn(incoming), silentLogger, 1, 1)
    try {
      await readyCount(files, 2)
      closeSync(files.take()!.fd)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(files.readyCount).toBe(1)
      expect(readdirSync(incoming).sort()).toEqual(['p0', 'p1'])
      files.replenish()
      await readyCount(files, 2)
      expect(readdirSync(incoming).sort()).toEqual(['p0', 'p1', 'p2'])
    } finally {
      await files.close()
    }
  })

  it('makes at most two per replenish above the low mark, the whole shortfall below it, and hands files out a batch at a time', async () => {
    const incoming = freshIncoming()
    let spare = 2
    const files = new PreparedFiles(spoolIn(incoming), silentLogger, () => spare, 5)
    try {
      // spare + batch at the start.
      await readyCount(files, 7)
      closeSync(files.take()!.fd)
      files.replenish()
      await settle()
      // The one taken is made again, and waits for the batch: not handed out yet.
      expect(readdirSync(incoming)).toHaveLength(8)
      expect(files.readyCount).toBe(6)
      for (let k = 0; k < 4; k++) closeSync(files.take()!.fd)
      files.replenish()
      await settle()
      // Two at most (4 were taken), still no batch.
      expect(readdirSync(incoming)).toHaveLength(10)
      expect(files.readyCount).toBe(2)
      closeSync(files.take()!.fd)
      files.replenish()
      // Two more make a batch of five: flushed, then handed out.
      await readyCount(files, 6)
      expect(readdirSync(incoming)).toHaveLength(12)
      // A higher mark (more associations): the whole shortfall at once, up to spare + batch.
      spare = 8
      files.replenish()
      await readyCount(files, 13)
      expect(readdirSync(incoming)).toHaveLength(19)
    } finally {
      await files.close()
    }
  })

  it('flushes the files waiting before their batch is full when fewer than half of `spare` are ready', async () => {
    const incoming = freshIncoming()
    const files = new PreparedFiles(spoolIn(incoming), silentLogger, 4, 10)
    try {
      await readyCount(files, 14)
      for (const take of [5, 5]) {
        for (let k = 0; k < take; k++) closeSync(files.take()!.fd)
        files.replenish()
        await settle()
      }
      // 4 ready, 4 waiting: enough ready, no flush.
      expect(files.readyCount).toBe(4)
      for (let k = 0; k < 3; k++) closeSync(files.take()!.fd)
      files.replenish()
      // 1 ready, under half of 4: the 6 waiting are flushed and handed out.
      await readyCount(files, 7)
      expect(readdirSync(incoming)).toHaveLength(20)
    } finally {
      await files.close()
    }
  })

  it('removes the files nobody took when closed', async () => {
    const incoming = freshIncoming()
    const files = new PreparedFiles(spoolIn(incoming), silentLogger, 3, 3)
    await readyCount(files, 1)
    // Closed while others may still be under way: it is removed too, before close resolves.
    await files.close()
    expect(readdirSync(incoming)).toEqual([])
  })

  it('hands out nothing, and says why once, when files cannot be prepared', async () => {
    const warnings: string[] = []
    const log: Logger = { ...silentLogger, warn: (_fields: unknown, message?: string) => void warnings.push(String(message)), child: () => log }
    const files = new PreparedFiles(spoolIn(join(scratch, 'missing-folder')), log, 2)
    try {
      for (let attempt = 0; attempt < 200 && warnings.length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(files.take()).toBeUndefined()
      expect(warnings[0]).toMatch(/could not prepare an incoming file/)
      // Paused: no new attempts (and no new warnings) right after a failure.
      const before = warnings.length
      files.replenish()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(warnings.length).toBe(before)
    } finally {
      await files.close()
    }
  })
})
