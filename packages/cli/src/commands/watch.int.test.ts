// `pacsflow watch` as a process: a series dropped in is copied to the output folder, one line per study; SIGINT stops it cleanly.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { copyTestSeries, testDataDir } from '@pacsflow/testkit'

const dataDir = testDataDir()
const watchModule = pathToFileURL(fileURLToPath(new URL('./watch.ts', import.meta.url))).href
const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const made: string[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

// Runs watchCommand.run in a process of its own, so that a real SIGINT reaches it.
const script = `
import { watchCommand } from ${JSON.stringify(watchModule)}
const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, cwd: process.cwd(), isTty: false }
process.exitCode = await watchCommand.run(JSON.parse(process.env.WATCH_ARGS), io)
`
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

describe.skipIf(dataDir === undefined)('pacsflow watch', () => {
  it('copies a dropped series to --out, prints one line for the study, and stops on SIGINT', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pacsflow-cli-watch-'))
    made.push(root)
    const files = copyTestSeries('dcm_qa_fmap/Siemens_3_gre_field_magph', join(root, 'staging'), dataDir)
    await mkdir(join(root, 'drop'))
    const args = { values: { spool: join(root, 'spool'), out: join(root, 'out'), 'quiet-period': '1', stable: '0.2' }, positionals: [join(root, 'drop')] }
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      // In the package, where tsx resolves.
      cwd: packageDir,
      env: { ...process.env, WATCH_ARGS: JSON.stringify(args) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const until = async (pattern: RegExp, limitMs: number): Promise<void> => {
      const deadline = Date.now() + limitMs
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in time; stdout: ${stdout}; stderr: ${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    try {
      await until(/^watching /m, 20_000)
      await cp(join(root, 'staging'), join(root, 'drop', 'exam'), { recursive: true })
      await until(/^done /m, 30_000)
      expect(stdout).toMatch(/^done 1\.3\.12\.2\.1107\.5\.2\.43\.67060\.30000021071511110887300000006\.g1: 36 file\(s\), 36 written, 0 unchanged -> .*out$/m)
      const copied = (await readdir(join(root, 'out'))).sort()
      expect(copied).toHaveLength(36)
      const want = new Set(await Promise.all(files.map(async (path) => sha(await readFile(path)))))
      const got = new Set(await Promise.all(copied.map(async (name) => sha(await readFile(join(root, 'out', name))))))
      expect(got).toEqual(want)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stdout).toMatch(/^stopped \(SIGINT\)/m)
      expect(stderr).toBe('')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }, 60_000)
})
