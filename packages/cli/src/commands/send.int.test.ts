// `pacsflow send` against a real DCMTK storescp: exit codes, the per-file report, and a resumable outbox.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '@pacsflow/core'
import { freePort, haveTools, testDataDir } from '@pacsflow/testkit'
import type { StoreReceipt } from '@pacsflow/stage-storescu'
import { runCli } from '../main.js'
import { sendCommand } from './send.js'

const dataDir = testDataDir()
const ready = haveTools('storescp') && dataDir !== undefined

async function cli(cwd: string, ...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  // Through runCli's dispatch when main.ts registers the command; directly until then.
  const registered = (await import('../main.js')).commands.some((command) => command.name === 'send')
  const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {}, cwd, isTty: false }
  const code = registered ? await runCli(['send', ...argv], io) : await runDirect(argv, io)
  return { code, stdout: out.join(''), stderr: err.join('') }
}

async function runDirect(argv: string[], io: Parameters<typeof runCli>[1]): Promise<number> {
  const { parseArgs } = await import('node:util')
  const { UsageError } = await import('../command.js')
  try {
    const args = parseArgs({ args: argv, options: sendCommand.options, allowPositionals: true, strict: true })
    return await sendCommand.run(args, io)
  } catch (error) {
    if (error instanceof UsageError) return 2
    throw error
  }
}

describe.skipIf(!ready)('pacsflow send', () => {
  let scratch: string
  let received: string
  let scp: ChildProcess
  let port: number

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-send-'))
    cpSync(join(dataDir!, 'dcm_qa_fmap/Siemens_3_gre_field_magph/In'), join(scratch, 'series'), { recursive: true })
    received = join(scratch, 'received')
    mkdirSync(received)
    port = await freePort()
    scp = spawn('storescp', ['-aet', 'RECEIVER', '-od', received, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' })
    for (let waited = 0; waited < 10_000; waited += 50) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)))
        socket.once('error', () => resolve(false))
      })
      if (up) break
      await sleep(50)
    }
  })

  afterAll(async () => {
    if (scp.exitCode === null) {
      const exited = new Promise((resolve) => scp.once('exit', resolve))
      scp.kill('SIGTERM')
      await exited
    }
    rmSync(scratch, { recursive: true, force: true })
  })

  it('sends a folder, prints the summary, exits 0; with --outbox a second run sends nothing', async () => {
    const first = await cli(scratch, '--host', '127.0.0.1', '--port', String(port), '--aet', 'RECEIVER', '--outbox', 'outbox', 'series')
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe(`stored 36, already stored 0, warnings 0, failed 0 (36 instance(s), 1 round(s)) on RECEIVER@127.0.0.1:${port}\n`)
    expect(readdirSync(received)).toHaveLength(36)
    const again = await cli(scratch, '--host', '127.0.0.1', '--port', String(port), '--aet', 'RECEIVER', '--outbox', 'outbox', '--json', 'series')
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout) as StoreReceipt).toMatchObject({ stored: 0, alreadyStored: 36, failed: 0 })
  }, 60_000)

  it('names each file it could not store and exits 1', async () => {
    writeFileSync(join(scratch, 'notes.txt'), 'not DICOM')
    const { code, stdout, stderr } = await cli(scratch, '--host', '127.0.0.1', '--port', String(port), '--aet', 'RECEIVER', '--transport', 'dcmtk', 'notes.txt', join('series', readdirSync(join(scratch, 'series'))[0]!))
    expect(code).toBe(1)
    expect(stderr).toMatch(/^failed .*notes\.txt: DICOM_INVALID: /m)
    expect(stdout).toMatch(/^stored 1, already stored 0, warnings 0, failed 1 /)
  }, 60_000)

  it('says what is missing or wrong with exit code 2', async () => {
    expect((await cli(scratch, 'series')).code).toBe(2)
    expect((await cli(scratch, '--host', 'h', '--port', '0', '--aet', 'A', 'series')).code).toBe(2)
    expect((await cli(scratch, '--host', 'h', '--port', '104', '--aet', 'A')).code).toBe(2)
    expect((await cli(scratch, '--host', 'h', '--port', '104', '--aet', 'A', '--transport', 'ftp', 'series')).code).toBe(2)
  })
})
