// Where fsyncs run: inline while the disk is fast, through the thread pool for a while after repeated slow ones.
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fsyncDescriptor, fsyncDir, fsyncFile, fsyncPlacement, INLINE_FSYNC_LIMIT_MS, noteInlineFsync, POOL_FSYNC_MS, writeFileAtomic } from './atomic-write.js'

const saved = { ...fsyncPlacement }
afterEach(() => {
  Object.assign(fsyncPlacement, saved)
})

function reset(): void {
  Object.assign(fsyncPlacement, { poolUntilMs: 0, slowShare: 0, slowInline: 0 })
}

describe('fsync placement', () => {
  it('stays inline after fast fsyncs and after one or two slow ones', () => {
    reset()
    const now = 1_000_000
    for (let i = 0; i < 100; i++) noteInlineFsync(INLINE_FSYNC_LIMIT_MS * 0.9, now + i)
    noteInlineFsync(INLINE_FSYNC_LIMIT_MS * 10, now + 200)
    noteInlineFsync(INLINE_FSYNC_LIMIT_MS * 10, now + 300)
    expect(fsyncPlacement.poolUntilMs).toBe(0)
    expect(fsyncPlacement.slowInline).toBe(2)
  })

  it('goes to the pool after three slow ones in a row, and for POOL_FSYNC_MS', () => {
    reset()
    const now = 2_000_000
    for (const at of [0, 10]) noteInlineFsync(INLINE_FSYNC_LIMIT_MS + 1, now + at)
    expect(fsyncPlacement.poolUntilMs).toBe(0)
    noteInlineFsync(INLINE_FSYNC_LIMIT_MS + 1, now + 20)
    expect(fsyncPlacement.poolUntilMs).toBe(now + 20 + POOL_FSYNC_MS)
    // ...and when most are slow, even with fast ones between.
    reset()
    for (let i = 0; i < 12; i++) noteInlineFsync(i % 3 === 2 ? 1 : INLINE_FSYNC_LIMIT_MS + 1, now + i)
    expect(fsyncPlacement.poolUntilMs).toBeGreaterThan(0)
  })

  it('stays inline when slow ones are a few among many fast ones', () => {
    reset()
    const now = 3_000_000
    // Slow ones every sixth fsync, for a long while: a busy moment, not a slow disk.
    for (let i = 0; i < 600; i++) noteInlineFsync(i % 6 === 0 ? INLINE_FSYNC_LIMIT_MS * 2 : 0.2, now + i)
    expect(fsyncPlacement.poolUntilMs).toBe(0)
    expect(fsyncPlacement.slowInline).toBe(100)
    // The share decays back to nothing after fast ones.
    for (let i = 0; i < 100; i++) noteInlineFsync(0.2, now + 1000 + i)
    expect(fsyncPlacement.slowShare).toBe(0)
  })

  it('flushes files and folders, and writes atomically, either way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-fsync-'))
    try {
      for (const poolUntilMs of [0, Number.POSITIVE_INFINITY]) {
        reset()
        fsyncPlacement.poolUntilMs = poolUntilMs
        const path = join(dir, `file-${poolUntilMs}`)
        await writeFileAtomic(path, 'durable')
        await fsyncFile(path)
        await fsyncDir(dir)
        expect(await readFile(path, 'utf8')).toBe('durable')
        await expect(fsyncFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('flushes through a descriptor the caller holds, either way, and reports a bad one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-fsync-'))
    try {
      for (const inline of [true, false]) {
        reset()
        const path = join(dir, `fd-${inline}`)
        const fd = openSync(path, 'wx')
        writeSync(fd, 'held')
        await fsyncDescriptor(fd, { inline })
        closeSync(fd)
        expect(await readFile(path, 'utf8')).toBe('held')
        // The descriptor is used, not a name: a closed one fails.
        await expect(fsyncDescriptor(fd, { inline })).rejects.toMatchObject({ code: 'EBADF' })
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
