// `pacsflow receive` with DCMTK storescu: it lists each study once complete, refuses callers not allowed, and stops on SIGTERM.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '@pacsflow/core'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { UsageError, type CliIo } from '../command.js'
import { receiveCommand } from './receive.js'

const run = promisify(execFile)
const dataDir = testDataDir()
const ready = haveTools('storescu') && dataDir !== undefined

interface Running {
  readonly out: string[]
  readonly err: string[]
  readonly done: Promise<number>
}

function start(argv: string[], cwd: string): Running {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd, isTty: false }
  const args = parseArgs({ args: argv, options: receiveCommand.options, allowPositionals: true, strict: true })
  return { out, err, done: receiveCommand.run(args, io) }
}

async function until(check: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; !check() && waited < ms; waited += 25) await sleep(25)
}

describe.skipIf(!ready)('pacsflow receive', () => {
  let scratch: string
  let files: string[]

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-receive-'))
    files = copyTestSeries('dcm_qa_fmap/Siemens_3_gre_field_magph', join(scratch, 'in'), dataDir)
  })
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('stores what an allowed sender pushes, lists the study once complete, and stops on SIGTERM', async () => {
    const receiving = start(['--aet', 'PACSFLOW', '--port', '0', '--spool', 'spool', '--allow', 'SCANNER, MODALITY', '--quiet', '1500'], scratch)
    try {
      await until(() => receiving.err.join('').includes('receiving as'), 10_000)
      const port = /127\.0\.0\.1:(\d+)/.exec(receiving.err.join(''))?.[1]
      expect(port).toBeDefined()
      const refused = await run('storescu', ['-aet', 'STRANGER', '-aec', 'PACSFLOW', '127.0.0.1', port!, files[0]!], { env: { ...process.env, TCP_NODELAY: '1' } }).catch((error: Error) => error)
      expect(refused).toBeInstanceOf(Error)
      await run('storescu', ['-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', port!, ...files], { env: { ...process.env, TCP_NODELAY: '1' } })
      await until(() => receiving.out.join('').includes('study complete'), 10_000)
      expect(receiving.out.join('')).toMatch(/^study complete: 1\.3\.12\.2\.1107\.5\.2\.43\.67060\.30000021071511110887300000006 \(crlab, .*\): 1 series, 36 instances \[.+\.g1\]\n$/)
    } finally {
      process.emit('SIGTERM')
    }
    expect(await receiving.done).toBe(0)
    expect(receiving.err.join('')).toMatch(/stopped; 1 complete study listed/)
    expect(readdirSync(join(scratch, 'spool', 'jobs'))).toHaveLength(1)
  }, 60_000)

  it('refuses bad arguments as usage errors', async () => {
    const bad = async (...argv: string[]): Promise<unknown> => start(argv, scratch).done.catch((error: unknown) => error)
    expect(await bad('--aet', 'PACSFLOW', '--port', '104')).toBeInstanceOf(UsageError)
    expect(await bad('--aet', 'PACSFLOW', '--port', 'x', '--spool', 's')).toBeInstanceOf(UsageError)
    expect(await bad('--aet', 'PACSFLOW', '--port', '104', '--spool', 's', '--allow-peer', 'scanner')).toBeInstanceOf(UsageError)
    expect(await bad('--aet', 'PACSFLOW', '--port', '104', '--spool', 's', '--tls-key', 'k.pem')).toBeInstanceOf(UsageError)
  })
})
