// The PACS we query and retrieve from: its address, AE titles, TLS and time limit, checked once.
import { existsSync, readFileSync } from 'node:fs'
import { PacsflowError } from '@pacsflow/core'
import type { DimseSecurityOptions } from '../dimse/facade.js'
import { checkAet } from '../scp/options.js'

/** TLS to the PACS. Each of ca, cert, key is a PEM file's path or the PEM itself. */
export interface PacsTlsOptions {
  /** CA certificate(s) that sign the PACS's certificate (default: Node's bundled CAs). */
  readonly ca?: string | Uint8Array
  /** Our certificate and key, for a PACS that asks for one. */
  readonly cert?: string | Uint8Array
  readonly key?: string | Uint8Array
  /** Check the PACS's certificate (default true). */
  readonly rejectUnauthorized?: boolean
}

/** A PACS: where it listens and its AE title. */
export interface PacsAddress {
  readonly host: string
  readonly port: number
  readonly aet: string
  readonly tls?: PacsTlsOptions
}

/** How we reach the PACS for one operation. */
export interface QrPeer {
  readonly host: string
  readonly port: number
  readonly calledAet: string
  readonly callingAet: string
  readonly timeoutMs: number
  readonly security?: DimseSecurityOptions
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', message)
}

function pem(value: unknown, what: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (typeof value === 'string' && value.includes('-----BEGIN')) return Buffer.from(value)
  if (typeof value === 'string' && existsSync(value)) return readFileSync(value)
  throw invalid(`pacs.tls.${what} must be the path of a PEM file, or PEM text`)
}

function security(tls: PacsTlsOptions | undefined): DimseSecurityOptions | undefined {
  if (tls === undefined) return undefined
  if (typeof tls !== 'object' || tls === null) throw invalid('pacs.tls must be { ca?, cert?, key?, rejectUnauthorized? }')
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw invalid('pacs.tls.cert and pacs.tls.key go together')
  return {
    ...(tls.ca === undefined ? {} : { ca: pem(tls.ca, 'ca') }),
    ...(tls.cert === undefined ? {} : { cert: pem(tls.cert, 'cert') }),
    ...(tls.key === undefined ? {} : { key: pem(tls.key, 'key') }),
    rejectUnauthorized: tls.rejectUnauthorized !== false,
  }
}

/** Checks the PACS address and our AE title; throws INVALID_OPTIONS. */
export function resolvePeer(pacs: PacsAddress, callingAet: string, timeoutMs: number | undefined): QrPeer {
  if (typeof pacs !== 'object' || pacs === null) throw invalid('pacs ({ host, port, aet }) is required')
  if (typeof pacs.host !== 'string' || pacs.host === '') throw invalid('pacs.host is required')
  if (!Number.isInteger(pacs.port) || pacs.port < 1 || pacs.port > 65535) throw invalid('pacs.port must be an integer in 1-65535')
  const timeout = timeoutMs ?? 60_000
  if (!Number.isInteger(timeout) || timeout < 100) throw invalid('timeoutMs must be an integer >= 100')
  const resolved = security(pacs.tls)
  return {
    host: pacs.host,
    port: pacs.port,
    calledAet: checkAet(pacs.aet, 'pacs.aet'),
    callingAet: checkAet(callingAet, 'aet'),
    timeoutMs: timeout,
    ...(resolved === undefined ? {} : { security: resolved }),
  }
}
