import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createRunner, defineStage, fileJobStore, PacsflowError, pipeline } from '@pacsflow/core'
import { runCli } from './main.js'
import { version } from './version.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function cli(...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: {},
    cwd: process.cwd(),
    isTty: false,
  })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

/** A job store holding one done and one failed job, made by a real runner. */
async function storeWithJobs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pacsflow-cli-'))
  dirs.push(dir)
  const flow = pipeline(defineStage({ name: 'select', run: async (n: number) => n })).pipe(
    defineStage({
      name: 'send',
      run: async (n: number) => {
        if (n < 0) throw new PacsflowError('UNKNOWN', 'association rejected by PACS')
        return n
      },
    }),
  )
  const runner = createRunner({ pipeline: flow, store: fileJobStore(dir), retry: { maxAttempts: 1 } })
  await runner.run(1, { jobId: 'good-study' })
  await runner.run(-1, { jobId: 'bad-study' }).catch(() => {})
  return dir
}

describe('pacsflow', () => {
  it('lists its commands, prints its version, and refuses unknown commands', async () => {
    const help = await cli('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Commands:\n {2}dicom2nifti {2}convert a folder/)
    expect(help.stdout).toMatch(/\n {2}jobs {9}list, show or remove/)
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: `${version}\n` })
    const unknown = await cli('frobnicate')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'frobnicate'")
    expect((await cli()).code).toBe(2)
  })

  it('gives each command its own --help, and usage errors exit 2', async () => {
    const help = await cli('jobs', '--help')
    expect(help).toMatchObject({ code: 0 })
    expect(help.stdout).toMatch(/^Usage: pacsflow jobs/)
    const missing = await cli('jobs', 'list')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--store <dir> is required')
    expect((await cli('jobs', 'list', '--store', 'x', '--bogus')).code).toBe(2)
  })
})

describe('pacsflow jobs', () => {
  it('lists jobs with their status, stage and error code', async () => {
    const store = await storeWithJobs()
    const { code, stdout } = await cli('jobs', 'list', '--store', store)
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STAGE\s+UPDATED\s+ERROR$/)
    expect(lines.find((line) => line.startsWith('bad-study'))).toMatch(/failed\s+send\s+\S+\s+UNKNOWN$/)
    expect(lines.find((line) => line.startsWith('good-study'))).toMatch(/done\s+-/)
    const failedOnly = await cli('jobs', 'list', '--store', store, '--status', 'failed', '--json')
    expect((JSON.parse(failedOnly.stdout) as { id: string }[]).map((job) => job.id)).toEqual(['bad-study'])
    expect((await cli('jobs', 'list', '--store', store, '--status', 'lost')).code).toBe(2)
  })

  it('shows one job with its stages and errors, and removes it', async () => {
    const store = await storeWithJobs()
    const shown = await cli('jobs', 'show', 'bad-study', '--store', store)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/status {4}failed/)
    expect(shown.stdout).toMatch(/1\. select\s+done in \d+ ms, 1 attempt/)
    expect(shown.stdout).toMatch(/2\. send\s+FAILED/)
    expect(shown.stdout).toContain('error     UNKNOWN: stage \'send\' failed: association rejected by PACS')
    expect(await cli('jobs', 'remove', 'bad-study', '--store', store)).toMatchObject({ code: 0, stdout: 'removed bad-study\n' })
    const gone = await cli('jobs', 'show', 'bad-study', '--store', store)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain('error JOB_NOT_FOUND')
  })

  it('reads an empty or missing store without creating it', async () => {
    const { code, stdout } = await cli('jobs', 'list', '--store', join(tmpdir(), 'pacsflow-no-such-store'))
    expect(code).toBe(0)
    expect(stdout).toContain('(no jobs)')
  })
})
