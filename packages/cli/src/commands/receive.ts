// `pacsflow receive`: a DICOM receiver (C-STORE SCP) into a spool, listing each study as it completes, until SIGINT/SIGTERM.
import { resolve } from 'node:path'
import { jsonLogger, silentLogger } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import type { DimseInputOptions, ScpTlsOptions, StoreScp } from '@pacsflow/stage-dimse-input'
import { defineCommand, integerFlag as integer, textFlag as text, UsageError, type CliIo, type ParsedArgs } from '../command.js'


function list(args: ParsedArgs, name: string): string[] | undefined {
  const value = text(args, name)
  if (value === undefined) return undefined
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`)
  return items
}

function tlsOf(args: ParsedArgs, cwd: string): ScpTlsOptions | undefined {
  const [key, cert, ca] = ['tls-key', 'tls-cert', 'tls-ca'].map((name) => text(args, name))
  const clientCerts = args.values['tls-require-client-cert'] === true
  if (key === undefined && cert === undefined && ca === undefined && !clientCerts) return undefined
  if (key === undefined || cert === undefined) throw new UsageError('TLS needs --tls-key and --tls-cert (PEM files)')
  if (clientCerts && ca === undefined) throw new UsageError('--tls-require-client-cert needs --tls-ca (the CA that signs the senders)')
  return { key: resolve(cwd, key), cert: resolve(cwd, cert), ...(ca === undefined ? {} : { ca: resolve(cwd, ca) }), requestCert: clientCerts }
}

/** The source options the command line asks for. */
function optionsOf(args: ParsedArgs, io: CliIo, onListening: (scp: StoreScp) => void): DimseInputOptions {
  const aet = text(args, 'aet')
  const port = integer(args, 'port', 0, 65535)
  const spool = text(args, 'spool')
  if (aet === undefined || port === undefined || spool === undefined) throw new UsageError('--aet, --port and --spool are required')
  const peers = list(args, 'allow-peer')
  // node:net is loaded here, not at the top: every other command would pay ~2 ms to load it.
  const { isIP } = process.getBuiltinModule('node:net')
  if (peers?.some((peer) => isIP(peer) === 0)) throw new UsageError('--allow-peer takes IP addresses')
  const [allowed, quietPeriodMs, maxAssociations, tls] = [list(args, 'allow'), integer(args, 'quiet', 0, 86_400_000), integer(args, 'max-associations', 1, 1000), tlsOf(args, io.cwd)]
  return {
    aet,
    port,
    spool: resolve(io.cwd, spool),
    host: text(args, 'host') ?? '127.0.0.1',
    onListening,
    ...(allowed === undefined ? {} : { allowedCallingAets: allowed }),
    ...(peers === undefined ? {} : { allowedPeers: peers }),
    ...(quietPeriodMs === undefined ? {} : { quietPeriodMs }),
    ...(maxAssociations === undefined ? {} : { maxAssociations }),
    ...(tls === undefined ? {} : { tls }),
  }
}

function describeStudy(id: string, study: DicomStudy): string {
  const instances = study.series.reduce((sum, series) => sum + series.instances.length, 0)
  const who = [study.patientId, study.patientName, study.studyDate, study.accessionNumber].filter((part) => part !== undefined && part !== '').join(', ')
  return `study complete: ${study.studyInstanceUid} (${who === '' ? 'no patient data' : who}): ${study.series.length} series, ${instances} instances [${id}]\n`
}

export const receiveCommand = defineCommand({
  name: 'receive',
  summary: 'run a DICOM receiver (C-STORE SCP) into a spool, listing each study as it completes',
  usage: 'pacsflow receive --aet <AE> --port <port> --spool <dir> [options]',
  help: `Listens for C-STORE (and C-ECHO) and stores every object as received in the spool folder, answering
success only once it is on disk for good. Each study is listed once it is complete (no new instance for
--quiet ms, or every announced instance arrived). Studies are not processed, and stay in the spool,
unacknowledged, for a pipeline reading it (they are listed again when the spool is opened again).
Stops on SIGINT or SIGTERM after the C-STOREs in flight are answered.

  --aet <AE>              our AE title (senders must call it)
  --port <port>           TCP port (0: any free one, printed)
  --spool <dir>           the spool folder (created when missing)
  --host <address>        address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --allow <AE,...>        calling AE titles allowed (default: any)
  --allow-peer <ip,...>   peer addresses allowed (default: any)
  --quiet <ms>            a study is complete this long after its last instance (default 60000)
  --max-associations <n>  associations at once (default 16)
  --tls-key <pem> --tls-cert <pem>  TLS (with --tls-ca and --tls-require-client-cert to check senders)
  --verbose               log as JSON lines on stderr
  --json                  one JSON line per complete study on stdout`,
  options: {
    aet: { type: 'string' },
    port: { type: 'string' },
    spool: { type: 'string' },
    host: { type: 'string' },
    allow: { type: 'string' },
    'allow-peer': { type: 'string' },
    quiet: { type: 'string' },
    'max-associations': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-ca': { type: 'string' },
    'tls-require-client-cert': { type: 'boolean' },
    verbose: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`)
    const onListening = (scp: StoreScp): void => {
      io.stderr(`receiving as ${scp.aet} on ${scp.host}:${scp.port}${scp.tls ? ' (TLS)' : ''}; Ctrl-C to stop\n`)
    }
    const options = optionsOf(args, io, onListening)
    const { dimseInput } = await import('@pacsflow/stage-dimse-input')
    const source = dimseInput(options)
    const controller = new AbortController()
    const stop = (): void => controller.abort(new Error('interrupted'))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const log = args.values.verbose === true ? jsonLogger({ write: io.stderr }) : silentLogger
    let studies = 0
    try {
      for await (const delivery of source.open({ signal: controller.signal, log })) {
        studies++
        const study = delivery.value
        if (args.values.json === true) {
          const instances = study.series.reduce((sum, series) => sum + series.instances.length, 0)
          io.stdout(`${JSON.stringify({ id: delivery.id, studyInstanceUid: study.studyInstanceUid, patientId: study.patientId, accessionNumber: study.accessionNumber, series: study.series.length, instances })}\n`)
        } else io.stdout(describeStudy(delivery.id, study))
      }
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    io.stderr(`stopped; ${studies} complete ${studies === 1 ? 'study' : 'studies'} listed, in ${options.spool as string}\n`)
    return 0
  },
})
