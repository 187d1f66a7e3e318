// Checks storescu's options once, at the factory, and fills in the defaults.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { PacsflowError, resolveRetry, type ResolvedRetry } from '@pacsflow/core'
import type { PeerOptions } from './dimse/session.js'
import type { StorescuOptions, TlsOptions } from './types.js'

export interface ResolvedOptions {
  readonly host: string
  readonly port: number
  readonly calledAet: string
  readonly callingAet: string
  readonly tls: TlsOptions | undefined
  readonly transport: 'dimse' | 'dcmtk'
  readonly maxAssociations: number
  readonly retry: ResolvedRetry
  readonly verify: boolean
  readonly timeoutMs: number
  readonly name: string
  readonly storescuPath: string
}

/** Retries span a PACS restart: 1 + 2 + 4 + 8 + 16 s of waiting before the sixth round gives up. */
const DEFAULT_RETRY = { maxAttempts: 6, initialDelayMs: 1000, maxDelayMs: 30_000 } as const

function invalid(message: string, details?: Record<string, unknown>): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `storescu: ${message}`, details === undefined ? {} : { details })
}

/** An AE title: 1-16 characters, no backslash or control characters, not only spaces (PS3.5 6.2, AE). */
function checkAet(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 16 || /[\\\u0000-\u001f\u007f]/.test(value)) {
    throw invalid(`${what} must be an AE title of 1-16 characters without backslashes or control characters`, { [what]: value })
  }
  return value.trim()
}

function checkTls(tls: StorescuOptions['tls'], transport: 'dimse' | 'dcmtk'): TlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined
  const resolved: TlsOptions = tls === true ? {} : tls
  if (typeof resolved !== 'object' || resolved === null) throw invalid('tls must be true, false or { ca, cert, key, rejectUnauthorized }')
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = resolved[key]
    if (path !== undefined && (typeof path !== 'string' || !existsSync(path))) throw invalid(`tls.${key} must be the path of a PEM file`, { [key]: path })
  }
  if ((resolved.cert === undefined) !== (resolved.key === undefined)) throw invalid('tls.cert and tls.key go together')
  if (transport === 'dcmtk' && resolved.ca === undefined && resolved.rejectUnauthorized !== false) {
    throw invalid("transport 'dcmtk' cannot use the system's CAs: give tls.ca, or rejectUnauthorized: false")
  }
  return resolved
}

export function resolveOptions(options: StorescuOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options are required ({ host, port, calledAet })')
  if (typeof options.host !== 'string' || options.host.trim() === '') throw invalid('host is required', { host: options.host })
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw invalid('port must be an integer in 1-65535', { port: options.port })
  const transport = options.transport ?? 'dimse'
  if (transport !== 'dimse' && transport !== 'dcmtk') throw invalid("transport must be 'dimse' or 'dcmtk'", { transport })
  const maxAssociations = options.maxAssociations ?? 1
  if (!Number.isInteger(maxAssociations) || maxAssociations < 1 || maxAssociations > 16) {
    throw invalid('maxAssociations must be an integer in 1-16', { maxAssociations })
  }
  const timeoutMs = options.timeoutMs ?? 60_000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw invalid('timeoutMs must be > 0', { timeoutMs })
  if (options.verify !== undefined && typeof options.verify !== 'boolean') throw invalid('verify must be a boolean')
  if (options.storescuPath !== undefined && (typeof options.storescuPath !== 'string' || options.storescuPath === '')) {
    throw invalid('storescuPath must be a non-empty string')
  }
  return {
    host: options.host.trim(),
    port: options.port,
    calledAet: checkAet(options.calledAet, 'calledAet'),
    callingAet: checkAet(options.callingAet ?? 'PACSFLOW', 'callingAet'),
    tls: checkTls(options.tls, transport),
    transport,
    maxAssociations,
    retry: resolveRetry(DEFAULT_RETRY, options.retry),
    verify: options.verify ?? false,
    timeoutMs,
    name: options.name ?? 'storescu',
    storescuPath: options.storescuPath ?? 'storescu',
  }
}

/** The peer as the dcmjs-dimse transport and C-FIND see it, TLS files read. */
export async function peerOf(options: ResolvedOptions): Promise<PeerOptions> {
  const base = { host: options.host, port: options.port, callingAet: options.callingAet, calledAet: options.calledAet, timeoutMs: options.timeoutMs }
  const tls = options.tls
  if (tls === undefined) return base
  const read = async (path: string | undefined): Promise<Buffer | undefined> => (path === undefined ? undefined : readFile(path))
  const [ca, cert, key] = await Promise.all([read(tls.ca), read(tls.cert), read(tls.key)])
  return {
    ...base,
    security: {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    },
  }
}
