// transport 'dcmtk': DCMTK's storescu executable through execa, its log read live into the same outcomes.
import { execa } from 'execa'
import { PacsflowError, type Logger } from '@pacsflow/core'
import type { SendItem } from '../input.js'
import type { Transport } from '../transport.js'
import type { TlsOptions } from '../types.js'
import { StorescuLogParser } from './log-parser.js'

export interface DcmtkOptions {
  readonly executable: string
  readonly host: string
  readonly port: number
  readonly callingAet: string
  readonly calledAet: string
  readonly timeoutMs: number
  readonly tls: TlsOptions | undefined
}

/** Files per storescu run: keeps the command line far below ARG_MAX. */
const FILES_PER_RUN = 500

function tlsArguments(tls: TlsOptions | undefined): string[] {
  if (tls === undefined) return []
  const args = tls.cert !== undefined && tls.key !== undefined ? ['+tls', tls.key, tls.cert] : ['+tla']
  if (tls.ca !== undefined) args.push('+cf', tls.ca)
  args.push(tls.rejectUnauthorized === false ? '-ic' : '-rc')
  return args
}

/** The storescu command line: debug log (the parser reads it), no halt on a failed file, only the contexts needed. */
export function storescuArguments(options: DcmtkOptions, paths: readonly string[]): string[] {
  const seconds = String(Math.max(1, Math.ceil(options.timeoutMs / 1000)))
  return [
    '--debug',
    '--no-halt',
    '--required',
    '-aet', options.callingAet,
    '-aec', options.calledAet,
    '-to', seconds,
    '-ta', seconds,
    '-td', seconds,
    ...tlsArguments(options.tls),
    options.host,
    String(options.port),
    ...paths,
  ]
}

async function runOnce(options: DcmtkOptions, items: readonly SendItem[], parser: StorescuLogParser, signal: AbortSignal): Promise<void> {
  const subprocess = execa(options.executable, storescuArguments(options, items.map((item) => item.path)), {
    // DCMTK leaves Nagle's algorithm on unless TCP_NODELAY is set in its environment.
    env: { TCP_NODELAY: '1' },
    cancelSignal: signal,
    forceKillAfterDelay: 2000,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    buffer: false,
  })
  for await (const line of subprocess.iterable({ from: 'stderr' })) parser.line(line)
  parser.end()
  const result = await subprocess
  if (result.isCanceled) throw new PacsflowError('ABORTED', 'sending was aborted', { cause: signal.reason })
  if (result.failed && parser.error === undefined && result.exitCode !== 0) {
    // No parsed cause: the executable is missing, crashed or was killed.
    const cause = result.cause instanceof Error ? result.cause.message : (result.signal ?? `exit code ${result.exitCode}`)
    throw new PacsflowError('STORE_TOOL_FAILED', `${options.executable} failed: ${cause}`, {
      retryable: result.signal !== undefined,
      details: { exitCode: result.exitCode, signal: result.signal },
    })
  }
}

/** Sends through DCMTK's storescu, FILES_PER_RUN files per run; each file's outcome comes from its log. */
export function dcmtkTransport(options: DcmtkOptions, log: Logger): Transport {
  return {
    async send(items, hooks, signal) {
      for (let start = 0; start < items.length; start += FILES_PER_RUN) {
        const batch = items.slice(start, start + FILES_PER_RUN)
        const parser = new StorescuLogParser(new Map(batch.map((item) => [item.path, item])), hooks, log)
        await runOnce(options, batch, parser, signal)
        if (parser.error !== undefined) return parser.error
      }
      return undefined
    },
  }
}
