// Runs one tool: its output kept in a log file and streamed to the logger, its whole process tree killed on abort.
import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import { execa } from 'execa'
import { PacsflowError, sleep, type Logger } from '@pacsflow/core'
import { commandLine, dockerRemoveArgs, type CommandLine, type ContainerSettings, type LaunchSpec } from './command-lines.js'

/** What every tool run needs from its surroundings. */
export interface ToolEnvironment {
  readonly signal: AbortSignal
  readonly log: Logger
  readonly settings: ContainerSettings
  /** Level of the streamed output lines (`'off'`: files only). */
  readonly toolLogLevel: 'debug' | 'info' | 'off'
  /** SIGTERM to SIGKILL, ms. */
  readonly killGraceMs: number
}

export interface ToolRun {
  /** The step the run belongs to (names the log and the errors). */
  readonly step: string
  readonly spec: LaunchSpec
  /** Appended to: a header line per run, then everything the tool writes. */
  readonly logFile?: string
  /** Records the running process so a resumed job can stop one a crash left behind (see `stopLeftover`). */
  readonly pidFile?: string
  /** Keep all output (up to 1 MiB) in `output`, e.g. for a version probe. */
  readonly captureAll?: boolean
}

export interface ToolResult {
  readonly exitCode: number
  /** Everything the tool wrote (with `captureAll`), else the last lines. */
  readonly output: string
  readonly durationMs: number
  readonly commandLine: CommandLine
}

const TAIL_CHARS = 16_384
const CAPTURE_CHARS = 1 << 20
const TOKEN_VARIABLE = 'PACSFLOW_TOOL_TOKEN'

/** Keeps the last characters (or the first MiB) of a stream of text. */
class TextTail {
  #text = ''
  constructor(private readonly keepAll: boolean) {}
  add(chunk: string): void {
    if (this.keepAll) {
      if (this.#text.length < CAPTURE_CHARS) this.#text += chunk.slice(0, CAPTURE_CHARS - this.#text.length)
    } else {
      this.#text = (this.#text + chunk).slice(-TAIL_CHARS)
    }
  }
  get text(): string {
    return this.#text
  }
  lines(count: number): string[] {
    return this.#text.split('\n').filter((line) => line.trim() !== '').slice(-count)
  }
}

/**
 * Runs a tool to completion. Throws `QSMXT_TOOL_MISSING` when it cannot start, `ABORTED` when the
 * signal fired (the process group got SIGTERM, then SIGKILL after `killGraceMs`; a Docker
 * container is removed by name), and `QSMXT_TOOL_FAILED` for a non-zero exit (unless `allowFailure`),
 * with the end of its output in `details.logTail`.
 */
export async function runTool(env: ToolEnvironment, run: ToolRun, allowFailure = false): Promise<ToolResult> {
  env.signal.throwIfAborted()
  const line = commandLine(run.spec, env.settings)
  const token = randomUUID()
  const started = Date.now()
  const log = run.logFile === undefined ? undefined : await openLog(run.logFile, line)
  const tail = new TextTail(run.captureAll === true)
  const subprocess = execa(line.file, [...line.args], {
    env: { ...line.env, [TOKEN_VARIABLE]: token },
    extendEnv: true,
    ...(run.spec.cwd === undefined || line.runtime !== 'local' ? {} : { cwd: run.spec.cwd }),
    cancelSignal: env.signal,
    forceKillAfterDelay: env.killGraceMs,
    killDescendants: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
  })
  if (run.pidFile !== undefined && subprocess.pid !== undefined) {
    writeFileSync(run.pidFile, JSON.stringify({ pid: subprocess.pid, token, containerName: line.containerName, started: new Date(started).toISOString() }))
  }
  const stream = (name: 'stdout' | 'stderr') => streamLines(subprocess[name], (chunk) => {
    log?.write(chunk)
    tail.add(chunk)
  }, (text) => {
    if (env.toolLogLevel !== 'off') env.log[env.toolLogLevel]({ tool: run.spec.tool.name, step: run.step, stream: name }, text)
  })
  const [result] = await Promise.all([subprocess, stream('stdout'), stream('stderr')])
  const durationMs = Date.now() - started
  await closeLog(log, `# exit ${result.exitCode ?? result.signal ?? '?'} after ${durationMs} ms\n`)
  if (run.pidFile !== undefined) rmSync(run.pidFile, { force: true })
  const details = {
    tool: run.spec.tool.name,
    step: run.step,
    command: [line.file, ...line.args],
    ...(run.logFile === undefined ? {} : { log: run.logFile }),
  }
  if (result.isCanceled || env.signal.aborted) {
    if (line.containerName !== undefined) await removeContainer(line.containerName, env.log)
    throw new PacsflowError('ABORTED', `${run.spec.tool.name} (${run.step}) was cancelled`, { cause: env.signal.reason, details })
  }
  const spawnCode = (result.cause as { code?: unknown } | undefined)?.code
  if (result.exitCode === undefined && (spawnCode === 'ENOENT' || spawnCode === 'EACCES')) {
    throw new PacsflowError('QSMXT_TOOL_MISSING', `${run.spec.tool.name}: cannot start '${line.file}' (${String(spawnCode)})`, { cause: result.cause, details })
  }
  const exitCode = result.exitCode ?? -1
  if (exitCode !== 0 && !allowFailure) {
    const how = result.signal === undefined ? `exited with status ${exitCode}` : `was killed by ${result.signal}`
    const logTail = tail.lines(40)
    throw new PacsflowError('QSMXT_TOOL_FAILED', `${run.spec.tool.name} (${run.step}) ${how}${logTail.length === 0 ? '' : `: ${logTail.at(-1)}`}`, {
      details: { ...details, exitCode, ...(result.signal === undefined ? {} : { signal: result.signal }), logTail },
    })
  }
  return { exitCode, output: tail.text, durationMs, commandLine: line }
}

/** The last lines a tool wrote into `logFile`, for errors raised after it exited (e.g. missing outputs). */
export function logTail(logFile: string, count = 40): string[] {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(-count)
  } catch {
    return []
  }
}

async function openLog(path: string, line: CommandLine): Promise<WriteStream> {
  mkdirSync(dirname(path), { recursive: true })
  const stream = createWriteStream(path, { flags: 'a' })
  stream.write(`# ${new Date().toISOString()} ${JSON.stringify([line.file, ...line.args])}\n`)
  return stream
}

function closeLog(stream: WriteStream | undefined, last: string): Promise<void> {
  if (stream === undefined) return Promise.resolve()
  return new Promise((resolve) => stream.end(last, () => resolve()))
}

/** Feeds `raw` every chunk and `line` every complete line (a last unterminated line at the end). */
async function streamLines(source: NodeJS.ReadableStream | null, raw: (chunk: string) => void, line: (text: string) => void): Promise<void> {
  if (source === null) return
  let pending = ''
  source.setEncoding('utf8')
  for await (const chunk of source as AsyncIterable<string>) {
    raw(chunk)
    pending += chunk
    const lines = pending.split(/\r?\n|\r/)
    pending = lines.pop() ?? ''
    for (const text of lines) if (text.trim() !== '') line(text)
  }
  if (pending.trim() !== '') line(pending)
}

async function removeContainer(name: string, log: Logger): Promise<void> {
  const result = await execa('docker', [...dockerRemoveArgs(name)], { reject: false, timeout: 60_000, stdin: 'ignore' })
  if (result.exitCode !== 0) log.warn({ container: name, output: String(result.stderr ?? '') }, 'could not remove the cancelled container')
}

/**
 * Stops what a crashed run left behind: the process group recorded in `pidFile`, if its leader still
 * carries the run's token (so a reused PID is never signalled), and its Docker container. Linux only
 * (it reads /proc); elsewhere it only removes the container. Returns true when something was stopped.
 */
export async function stopLeftover(pidFile: string, graceMs: number, log: Logger): Promise<boolean> {
  let record: { pid?: unknown; token?: unknown; containerName?: unknown }
  try {
    record = JSON.parse(readFileSync(pidFile, 'utf8')) as typeof record
  } catch {
    return false
  }
  let stopped = false
  if (typeof record.pid === 'number' && typeof record.token === 'string' && carriesToken(record.pid, record.token)) {
    log.warn({ pid: record.pid }, 'stopping a tool that a crashed run of this job left running')
    stopped = true
    signalGroup(record.pid, 'SIGTERM')
    for (let waited = 0; groupAlive(record.pid) && waited < graceMs; waited += 50) await sleep(50)
    if (groupAlive(record.pid)) signalGroup(record.pid, 'SIGKILL')
  }
  if (typeof record.containerName === 'string') {
    await removeContainer(record.containerName, log)
    stopped = true
  }
  rmSync(pidFile, { force: true })
  return stopped
}

function carriesToken(pid: number, token: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${TOKEN_VARIABLE}=${token}`)
  } catch {
    return false
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}
