// Running a tool: log file and streamed lines, coded failures with the log's tail, and killing whole process trees.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isAbortError, isPacsflowError, sleep } from '@pacsflow/core'
import { resolveOptions, type ResolvedTool } from './options.js'
import { runTool, stopLeftover, type ToolEnvironment } from './run-tool.js'
import { capturingLogger, processAlive, removeDir, tempDir } from './test-support/fixtures.js'

const dir = tempDir('run-tool')
afterAll(() => removeDir(dir))

function script(name: string, body: string): ResolvedTool {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return { ...resolveOptions({}).tools.qsmxt, command: path }
}

function environment(signal = new AbortController().signal, records: Parameters<typeof capturingLogger>[0] = []): ToolEnvironment {
  return {
    signal,
    log: capturingLogger(records),
    settings: { apptainerVerb: 'run', apptainerArgs: [], dockerUser: false, dockerArgs: [] },
    toolLogLevel: 'info',
    killGraceMs: 500,
  }
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; !check() && waited < ms; waited += 20) await sleep(20)
}

describe('runTool', () => {
  it('keeps stdout and stderr in the log file and streams each line to the logger', async () => {
    const records: Parameters<typeof capturingLogger>[0] = []
    const tool = script('talk.sh', 'echo "first line"; echo "to stderr" >&2; printf "no newline"')
    const logFile = join(dir, 'logs', 'talk.log')
    const result = await runTool(environment(undefined, records), { step: 'talk', spec: { tool, args: ['a b'] }, logFile })
    expect(result.exitCode).toBe(0)
    const log = readFileSync(logFile, 'utf8')
    expect(log).toContain(`["${tool.command}","a b"]`)
    expect(log).toContain('first line\n')
    expect(log).toContain('to stderr\n')
    expect(log).toMatch(/# exit 0 after \d+ ms/)
    const lines = records.filter((r) => r.fields.step === 'talk').map((r) => [r.fields.stream, r.msg])
    expect(lines).toEqual(expect.arrayContaining([['stdout', 'first line'], ['stderr', 'to stderr'], ['stdout', 'no newline']]))
  })

  it('passes arguments as argv, never through a shell', async () => {
    const tool = script('args.sh', 'for a in "$@"; do echo "[$a]"; done')
    const result = await runTool(environment(), { step: 'args', spec: { tool, args: ['$(touch pwned)', 'a;b', '*'] }, captureAll: true })
    expect(result.output).toBe('[$(touch pwned)]\n[a;b]\n[*]\n')
    expect(existsSync('pwned')).toBe(false)
  })

  it('fails QSMXT_TOOL_FAILED with the exit status and the end of the log', async () => {
    const tool = script('fail.sh', 'echo "working"; echo "ERROR: out of memory" >&2; exit 3')
    const error = await runTool(environment(), { step: 'fail', spec: { tool, args: [] }, logFile: join(dir, 'logs', 'fail.log') }).catch((e: unknown) => e)
    expect(isPacsflowError(error, 'QSMXT_TOOL_FAILED')).toBe(true)
    const details = (error as { details: { exitCode: number; logTail: string[]; log: string } }).details
    expect(details.exitCode).toBe(3)
    expect(details.logTail).toEqual(['working', 'ERROR: out of memory'])
    expect(details.log).toBe(join(dir, 'logs', 'fail.log'))
    expect((error as Error).message).toMatch(/exited with status 3: ERROR: out of memory/)
  })

  it('fails QSMXT_TOOL_MISSING when the executable is not there', async () => {
    const tool = { ...resolveOptions({}).tools.qsmxt, command: join(dir, 'no-such-tool') }
    await expect(runTool(environment(), { step: 'x', spec: { tool, args: [] } })).rejects.toMatchObject({ code: 'QSMXT_TOOL_MISSING' })
  })

  it('kills the whole process tree on abort, SIGKILL after the grace period for a tool that ignores SIGTERM', async () => {
    const pids = join(dir, 'tree.pids')
    const tool = script('tree.sh', `trap '' TERM; sleep 30 & echo "$$ $!" > '${pids}'; wait`)
    const controller = new AbortController()
    const started = Date.now()
    const running = runTool(environment(controller.signal), { step: 'tree', spec: { tool, args: [] } })
    await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').includes(' '))
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number]
    expect(processAlive(shell) && processAlive(child)).toBe(true)
    controller.abort()
    const error = await running.catch((e: unknown) => e)
    expect(isAbortError(error)).toBe(true)
    await waitFor(() => !processAlive(shell) && !processAlive(child))
    expect(processAlive(shell)).toBe(false)
    expect(processAlive(child)).toBe(false)
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})

describe('stopLeftover', () => {
  it('stops a process group a crashed run left, recognised by its token, and leaves others alone', async () => {
    const token = 'token-123'
    const orphan = spawn('sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore', env: { ...process.env, PACSFLOW_TOOL_TOKEN: token } })
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
    await waitFor(() => existsSync(`/proc/${orphan.pid}/environ`))
    const pidFile = join(dir, '.running.json')
    writeFileSync(pidFile, JSON.stringify({ pid: orphan.pid, token }))
    expect(await stopLeftover(pidFile, 500, capturingLogger())).toBe(true)
    await waitFor(() => !processAlive(orphan.pid!))
    expect(processAlive(orphan.pid!)).toBe(false)
    expect(existsSync(pidFile)).toBe(false)
    writeFileSync(pidFile, JSON.stringify({ pid: stranger.pid, token: 'another-token' }))
    expect(await stopLeftover(pidFile, 500, capturingLogger())).toBe(false)
    expect(processAlive(stranger.pid!)).toBe(true)
    stranger.kill('SIGKILL')
  })
})
