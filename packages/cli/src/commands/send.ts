// `pacsflow send`: C-STORE files and folders to a PACS, with retries, a resumable outbox and a per-instance report.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { jsonLogger, silentLogger } from '@pacsflow/core'
import type { StorescuOptions, StoreReceipt, TlsOptions } from '@pacsflow/stage-storescu'
import { defineCommand, UsageError, type CliIo, type ParsedArgs } from '../command.js'

function integer(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = args.values[name]
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be an integer in ${min}-${max}`)
  return value
}

function text(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

function tlsOf(args: ParsedArgs, cwd: string): TlsOptions | undefined {
  const [ca, cert, key] = ['tls-ca', 'tls-cert', 'tls-key'].map((name) => text(args, name))
  if (args.values.tls !== true && ca === undefined && cert === undefined && key === undefined) return undefined
  return {
    ...(ca === undefined ? {} : { ca: resolve(cwd, ca) }),
    ...(cert === undefined ? {} : { cert: resolve(cwd, cert) }),
    ...(key === undefined ? {} : { key: resolve(cwd, key) }),
  }
}

/** The storescu options the command line asks for. */
function optionsOf(args: ParsedArgs, io: CliIo): StorescuOptions {
  const host = text(args, 'host')
  const port = integer(args, 'port', 1, 65535)
  const calledAet = text(args, 'aet')
  if (host === undefined || port === undefined || calledAet === undefined) throw new UsageError('--host, --port and --aet are required')
  const transport = text(args, 'transport') ?? 'dimse'
  if (transport !== 'dimse' && transport !== 'dcmtk') throw new UsageError('--transport must be dimse or dcmtk')
  const [callingAet, maxAssociations, timeoutMs, maxAttempts] = [
    text(args, 'calling-aet'),
    integer(args, 'associations', 1, 16),
    integer(args, 'timeout', 1, 3_600_000),
    integer(args, 'retries', 0, 100),
  ]
  const tls = tlsOf(args, io.cwd)
  return {
    host,
    port,
    calledAet,
    transport,
    verify: args.values.verify === true,
    ...(callingAet === undefined ? {} : { callingAet }),
    ...(maxAssociations === undefined ? {} : { maxAssociations }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxAttempts === undefined ? {} : { retry: { maxAttempts: maxAttempts + 1 } }),
    ...(tls === undefined ? {} : { tls }),
  }
}

function report(receipt: StoreReceipt, io: CliIo): void {
  for (const instance of receipt.instances) {
    if (instance.status === 'failed') io.stderr(`failed ${instance.path}: ${instance.error?.code}: ${instance.error?.message}\n`)
    else if (instance.status === 'warning') io.stderr(`warning ${instance.path}: ${instance.note ?? ''}\n`)
  }
  const { calledAet, host, port } = receipt.destination
  const verified = receipt.verified === undefined ? '' : `, verified ${receipt.verified.confirmed}`
  io.stdout(
    `stored ${receipt.stored}, already stored ${receipt.alreadyStored}, warnings ${receipt.warnings}, failed ${receipt.failed}${verified} ` +
      `(${receipt.total} instance(s), ${receipt.rounds} round(s)) on ${calledAet}@${host}:${port}\n`,
  )
}

export const sendCommand = defineCommand({
  name: 'send',
  summary: 'C-STORE DICOM files and folders to a PACS (retries, resumable outbox, per-instance report)',
  usage: 'pacsflow send --host <host> --port <port> --aet <called-aet> [options] <files or dirs...>',
  help: `Indexes every file given (folders recursively) and stores each SOP instance on the PACS. Connection
failures, rejected associations, timeouts and 0xA7xx statuses are retried with backoff; other failure
statuses are reported per file. The exit code is 0 when every instance is stored, 1 otherwise.

  --host <host>          the PACS
  --port <port>
  --aet <aet>            the PACS's AE title
  --calling-aet <aet>    ours (default PACSFLOW)
  --transport <t>        dimse (default, in-process) or dcmtk (DCMTK's storescu)
  --associations <n>     associations at once (default 1)
  --verify               afterwards, C-FIND that the PACS holds every instance
  --timeout <ms>         connect, negotiate and per-response limit (default 60000)
  --retries <n>          rounds without progress before giving up, after the first (default 5)
  --outbox <dir>         keep the outbox here: running the same command again skips what the PACS acknowledged
  --tls                  TLS (with --tls-ca, --tls-cert, --tls-key as PEM files)
  --verbose              log as JSON lines on stderr
  --json                 print the receipt as JSON`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    aet: { type: 'string' },
    'calling-aet': { type: 'string' },
    transport: { type: 'string' },
    associations: { type: 'string' },
    verify: { type: 'boolean' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    outbox: { type: 'string' },
    tls: { type: 'boolean' },
    'tls-ca': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    verbose: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    if (args.positionals.length === 0) throw new UsageError('give at least one file or folder to send')
    const options = optionsOf(args, io)
    const outboxArg = text(args, 'outbox')
    const outboxDir = outboxArg === undefined ? await mkdtemp(join(tmpdir(), 'pacsflow-send-')) : resolve(io.cwd, outboxArg)
    const controller = new AbortController()
    const stop = (): void => controller.abort(new Error('interrupted'))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      // Loaded here, not at the top: dcmjs-dimse costs ~100 ms that other commands should not pay.
      const { sendToPacs } = await import('@pacsflow/stage-storescu')
      const receipt = await sendToPacs({ files: args.positionals.map((path) => resolve(io.cwd, path)) }, options, {
        outboxDir,
        signal: controller.signal,
        log: args.values.verbose === true ? jsonLogger({ write: io.stderr }) : silentLogger,
      })
      if (args.values.json === true) io.stdout(`${JSON.stringify(receipt, null, 2)}\n`)
      else report(receipt, io)
      return receipt.failed === 0 ? 0 : 1
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      if (outboxArg === undefined) await rm(outboxDir, { recursive: true, force: true })
    }
  },
})
