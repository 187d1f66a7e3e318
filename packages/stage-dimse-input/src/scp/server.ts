// startStoreScp: the C-STORE SCP on its own (TCP or TLS), answering success only for objects the spool holds durably.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { PacsflowError, silentLogger, type Logger } from '@pacsflow/core'
import { dimse } from '../dimse/facade.js'
import { ScpConnection } from './connection.js'
import { adoptConnection, streamedConnection, type IncomingConnection } from './socket-reads.js'
import { PreparedFiles } from './prepared-files.js'
import { resolveScpOptions, type ResolvedScpOptions, type StoreScpOptions } from './options.js'
import { ScpStats, type ScpStatsSnapshot } from './stats.js'

/** A running receiver. */
export interface StoreScp {
  readonly aet: string
  readonly host: string
  /** The port it listens on (the one the OS chose when `port` was 0). */
  readonly port: number
  readonly tls: boolean
  /** Counters so far. */
  stats(): ScpStatsSnapshot
  /**
   * Stops listening, lets every C-STORE in flight finish (committed and answered), then ends each
   * association with A-ABORT; after `closeTimeoutMs` the rest are cut (their partial objects are
   * removed and never answered, so senders send them again). Idempotent.
   */
  close(): Promise<void>
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new PacsflowError('SCP_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
          cause: error,
          retryable: error.code === 'EADDRINUSE',
          details: { host, port, code: error.code },
        }),
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : port)
    })
  })
}

function makeServer(resolved: ResolvedScpOptions, onConnection: (connection: IncomingConnection) => void, log: Logger): Server {
  const tls = resolved.tls
  let warned = false
  const adopt = (socket: Socket): IncomingConnection => {
    const incoming = adoptConnection(socket)
    if (!incoming.reusesBuffer && !warned) {
      warned = true
      log.warn({ node: process.version }, 'this Node cannot hand a connection to a reused read buffer: reading with its stream reads (slower; see socket-reads.ts)')
    }
    return incoming
  }
  const server =
    tls === undefined
      ? // Accepted paused, so that no read happens before the connection is adopted (see socket-reads.ts).
        createTcpServer({ noDelay: true, pauseOnConnect: true }, (socket) => onConnection(adopt(socket)))
      : createTlsServer(
          { key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca }), requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized },
          (socket) => onConnection(streamedConnection(socket)),
        )
  // A failed TLS handshake (an unknown client certificate, plain TCP on a TLS port) never reaches a connection.
  server.on('tlsClientError', (error: Error, socket: Socket) => log.warn({ err: error, peer: socket.remoteAddress }, 'TLS handshake failed'))
  server.on('error', (error) => log.error({ err: error }, 'DICOM receiver error'))
  return server
}

/**
 * Starts a C-STORE SCP (and Verification SCP) that streams every object it receives into
 * `options.spool` and answers success only once `spool.commit` says it is durable. Throws
 * INVALID_OPTIONS for bad options, SCP_LISTEN_FAILED when it cannot listen.
 */
export async function startStoreScp(options: StoreScpOptions): Promise<StoreScp> {
  const resolved = resolveScpOptions(options)
  // dcmjs-dimse (and dcmjs) load in ~100-300 ms: before listening, not during the first association.
  dimse()
  const log = (options.log ?? silentLogger).child({ scp: resolved.aet })
  const stats = new ScpStats()
  const connections = new Set<ScpConnection>()
  // The low mark: 4 files per active association, up to 16 (each an open descriptor), with a batch
  // of 16 more on hand; one or two are made after each answer (see PreparedFiles.replenish).
  const prepared = new PreparedFiles(options.spool, log, () => 4 * Math.min(4, Math.max(1, stats.activeAssociations)))
  const settings = {
    policy: {
      aet: resolved.aet,
      checkCalledAet: resolved.checkCalledAet,
      maxAssociations: resolved.maxAssociations,
      ...(resolved.allowedCallingAets === undefined ? {} : { allowedCallingAets: resolved.allowedCallingAets }),
      ...(resolved.allowedPeers === undefined ? {} : { allowedPeers: resolved.allowedPeers }),
      ...(options.onAssociation === undefined ? {} : { onAssociation: options.onAssociation }),
    },
    contexts: { transferSyntaxes: resolved.transferSyntaxes, extraSopClasses: resolved.extraSopClasses },
    spool: options.spool,
    prepared,
    log,
    maxPduLength: resolved.maxPduLength,
    timeoutMs: resolved.timeoutMs,
    stats,
    onStore: options.onStore,
  }
  const onConnection = (incoming: IncomingConnection): void => {
    incoming.socket.on('error', () => {}) // reported through the connection's networkError
    const connection = new ScpConnection(incoming, settings)
    connections.add(connection)
    void connection.closed.then(() => connections.delete(connection))
  }
  const server = makeServer(resolved, onConnection, log)
  // Room for the associations, and for the ones to reject, but not for a flood of idle connections.
  server.maxConnections = resolved.maxAssociations + 16
  let port: number
  try {
    port = await listen(server, resolved.port, resolved.host)
  } catch (error) {
    await prepared.close()
    throw error
  }
  log.info({ host: resolved.host, port, tls: resolved.tls !== undefined }, 'DICOM receiver listening')
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const connection of connections) connection.drain()
    const all = Promise.all([...connections].map((connection) => connection.closed))
    const timer = setTimeout(() => {
      log.warn({ open: connections.size }, `associations still open after ${resolved.closeTimeoutMs} ms: cut`)
      for (const connection of connections) connection.destroy()
    }, resolved.closeTimeoutMs)
    await all
    clearTimeout(timer)
    await prepared.close()
    await serverClosed
    log.info({ ...stats.snapshot() }, 'DICOM receiver closed')
  }
  return {
    aet: resolved.aet,
    host: resolved.host,
    port,
    tls: resolved.tls !== undefined,
    stats: () => stats.snapshot(),
    close: () => (closing ??= close()),
  }
}
