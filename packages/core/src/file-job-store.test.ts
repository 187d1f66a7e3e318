import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TEMP_SUFFIX, writeFileAtomic } from './atomic-write.js'
import { fileJobStore } from './file-job-store.js'
import type { JobRecord } from './job-store.js'
import { memoryJobStore } from './job-store.js'
import { useTempDirs } from './test-support/temp-dir.js'

const tempDir = useTempDirs()

const record = (id: string, status: JobRecord['status'] = 'pending'): JobRecord => ({
  id,
  status,
  input: { study: id },
  stages: ['a', 'b'],
  checkpoints: [],
  errors: [],
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
})

describe.each([
  ['fileJobStore', async () => fileJobStore(await tempDir())],
  ['memoryJobStore', async () => memoryJobStore({ workRoot: await tempDir() })],
])('%s', (_name, makeStore) => {
  it('creates once, then returns the existing job untouched', async () => {
    const store = await makeStore()
    expect((await store.create(record('j1'))).created).toBe(true)
    const again = await store.create({ ...record('j1'), input: 'other' })
    expect(again.created).toBe(false)
    expect(again.record.input).toEqual({ study: 'j1' })
  })

  it('saves, gets, lists by status and removes', async () => {
    const store = await makeStore()
    await store.create(record('a'))
    await store.create(record('b'))
    await store.save({ ...record('b', 'failed'), error: { name: 'PacsflowError', code: 'UNKNOWN', message: 'x', retryable: false } })
    expect((await store.get('b'))?.status).toBe('failed')
    expect((await store.list({ status: ['pending'] })).map((job) => job.id)).toEqual(['a'])
    expect((await store.list()).map((job) => job.id).sort()).toEqual(['a', 'b'])
    await store.remove('a')
    expect(await store.get('a')).toBeUndefined()
    expect(store.workDir('b')).toContain('b')
  })
})

describe('fileJobStore on disk', () => {
  it('keeps one readable JSON file per job and no temporary files', async () => {
    const dir = await tempDir()
    const store = fileJobStore(dir)
    await store.create(record('1.2.840.1-abc'))
    await store.save({ ...record('1.2.840.1-abc', 'done'), output: 42 })
    expect(await readdir(join(dir, '1.2.840.1-abc'))).toEqual(['job.json'])
    const onDisk = JSON.parse(await readFile(join(dir, '1.2.840.1-abc', 'job.json'), 'utf8')) as JobRecord
    expect(onDisk).toMatchObject({ status: 'done', output: 42 })
    expect(store.workDir('1.2.840.1-abc')).toBe(join(dir, '1.2.840.1-abc', 'work'))
  })

  it('never uses a hostile id as a path', async () => {
    const store = fileJobStore(await tempDir())
    await expect(store.create(record('../escape'))).rejects.toThrowError(/cannot name a folder/)
    expect(() => store.workDir('..')).toThrowError(/cannot name a folder/)
  })

  it('skips an unreadable record in list() and reports it', async () => {
    const dir = await tempDir()
    const errors: unknown[] = []
    const store = fileJobStore(dir, { log: { ...silentish(), error: (obj: unknown) => void errors.push(obj) } })
    await store.create(record('good'))
    await mkdir(join(dir, 'bad'))
    await writeFile(join(dir, 'bad', 'job.json'), '{"id": "bad", "sta')
    await mkdir(join(dir, 'empty'))
    expect((await store.list()).map((job) => job.id)).toEqual(['good'])
    expect(errors).toHaveLength(1)
    await expect(store.get('bad')).rejects.toMatchObject({ code: 'JOB_STORE_CORRUPT' })
  })
})

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temporary file behind', async () => {
    const dir = await tempDir()
    const path = join(dir, 'nested', 'state.json')
    await writeFileAtomic(path, 'one')
    await writeFileAtomic(path, new Uint8Array([116, 119, 111]), { durable: false })
    expect(await readFile(path, 'utf8')).toBe('two')
    expect((await readdir(join(dir, 'nested'))).filter((name) => name.endsWith(TEMP_SUFFIX))).toEqual([])
  })

  it('cleans up its temporary file when the rename fails', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'target-is-a-folder', 'child'), { recursive: true })
    await expect(writeFileAtomic(join(dir, 'target-is-a-folder'), 'x')).rejects.toThrow()
    expect((await readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX))).toEqual([])
  })
})

function silentish() {
  const noop = () => {}
  const log = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, child: () => log }
  return log
}
