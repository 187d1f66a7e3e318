// SIGKILL mid-step, then resume: finished steps are not run again, the killed step is, and the tool it left running is stopped.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createRunner, fileJobStore, pipeline, sleep } from '@pacsflow/core'
import { qsmxt } from './index.js'
import { standInWorld } from './test-support/world.js'
import { processAlive } from './test-support/fixtures.js'

const childScript = fileURLToPath(new URL('./test-support/run-child.ts', import.meta.url))
const packageDir = fileURLToPath(new URL('..', import.meta.url))

const world = standInWorld('resume')

describe('resume after SIGKILL', () => {
  it('skips the finished steps, stops the orphaned tool, and runs the killed step again', async () => {
    const storeDir = join(world.root, 'store')
    const inputFile = join(world.root, 'input.json')
    const hangFile = join(world.root, 'hang.json')
    writeFileSync(inputFile, JSON.stringify(world.echoes))
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript, storeDir, inputFile], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STANDIN_HANG: 'qsmxt', STANDIN_HANG_FILE: hangFile },
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    for (let waited = 0; !existsSync(hangFile) && waited < 30_000; waited += 20) await sleep(20)
    expect(existsSync(hangFile), stderr).toBe(true)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    const orphan = JSON.parse(readFileSync(hangFile, 'utf8')) as { pid: number; child: number }
    // The tool survived its parent (its own process group), as a real QSMxT would.
    expect(processAlive(orphan.pid)).toBe(true)
    const workDir = join(storeDir, 'resume-1', 'work', '00-qsmxt')
    const convertMarker = join(workDir, 'convert', '.complete.json')
    const convertWritten = statSync(convertMarker).mtimeMs
    expect(existsSync(join(workDir, 'skull-strip', '.complete.json'))).toBe(true)
    expect(existsSync(join(workDir, 'qsmxt', '.running.json'))).toBe(true)

    const runner = createRunner({ pipeline: pipeline(qsmxt({ converter: 'native', registration: 'ants', killGraceMs: 1000 })), store: fileJobStore(storeDir), resources: { gpu: 1 }, retry: { maxAttempts: 1 } })
    const result = await runner.run(world.echoes, { jobId: 'resume-1' })
    await runner.stop()

    expect(result.engine).toBe('qsmxt')
    expect(existsSync(result.chiOnTarget)).toBe(true)
    expect(world.tools.invocations().map((c) => c.tool)).toEqual(['hd-bet', 'qsmxt', 'qsmxt'])
    expect(statSync(convertMarker).mtimeMs).toBe(convertWritten)
    for (let waited = 0; (processAlive(orphan.pid) || processAlive(orphan.child)) && waited < 5000; waited += 20) await sleep(20)
    expect(processAlive(orphan.pid)).toBe(false)
    expect(processAlive(orphan.child)).toBe(false)
  }, 60_000)
})
