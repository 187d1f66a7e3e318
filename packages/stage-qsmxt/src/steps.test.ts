// Resumable steps: skipped when complete and intact, run afresh in an emptied folder otherwise.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@pacsflow/core'
import { MARKER, runStep } from './steps.js'
import { removeDir, tempDir } from './test-support/fixtures.js'

const root = tempDir('steps')
afterAll(() => removeDir(root))

describe('runStep', () => {
  it('runs a step once and returns its recorded outputs and data when called again', async () => {
    const host = { workDir: join(root, 'a'), log: silentLogger, killGraceMs: 100 }
    let runs = 0
    const body = async (dir: string) => {
      runs++
      writeFileSync(join(dir, 'out.txt'), 'result')
      return { outputs: { out: join(dir, 'out.txt') }, data: { answer: 42 } }
    }
    const first = await runStep(host, 'step', body)
    const second = await runStep(host, 'step', body)
    expect(runs).toBe(1)
    expect(first.skipped).toBe(false)
    expect(second).toMatchObject({ skipped: true, data: { answer: 42 }, outputs: { out: join(host.workDir, 'step', 'out.txt') } })
    expect(second.durationMs).toBe(first.durationMs)
    const marker = JSON.parse(readFileSync(join(host.workDir, 'step', MARKER), 'utf8')) as { outputs: Record<string, { path: string; size: number }> }
    expect(marker.outputs.out).toEqual({ path: 'step/out.txt', size: 6 })
  })

  it('runs again, in an emptied folder, when an output changed size or vanished or there is no marker', async () => {
    const host = { workDir: join(root, 'b'), log: silentLogger, killGraceMs: 100 }
    let runs = 0
    const body = async (dir: string) => {
      runs++
      expect(existsSync(join(dir, 'stray.txt'))).toBe(false)
      writeFileSync(join(dir, 'out.txt'), 'result')
      writeFileSync(join(dir, 'stray.txt'), 'from an earlier run')
      return { outputs: { out: join(dir, 'out.txt') }, data: null }
    }
    await runStep(host, 'step', body)
    writeFileSync(join(host.workDir, 'step', 'out.txt'), 'truncated?')
    await runStep(host, 'step', body)
    expect(runs).toBe(2)
    writeFileSync(join(host.workDir, 'step', MARKER), '{ not json')
    await runStep(host, 'step', body)
    expect(runs).toBe(3)
  })

  it('writes no marker when the body fails, so the step runs again', async () => {
    const host = { workDir: join(root, 'c'), log: silentLogger, killGraceMs: 100 }
    await expect(runStep(host, 'step', async () => Promise.reject(new Error('tool died')))).rejects.toThrow('tool died')
    expect(existsSync(join(host.workDir, 'step', MARKER))).toBe(false)
    const done = await runStep(host, 'step', async (dir) => {
      writeFileSync(join(dir, 'x'), '1')
      return { outputs: { x: join(dir, 'x') }, data: 'ok' }
    })
    expect(done).toMatchObject({ skipped: false, data: 'ok' })
  })
})
