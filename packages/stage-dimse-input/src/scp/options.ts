// The receiver's options: their types, defaults, and the checks a factory makes at once (INVALID_OPTIONS).
import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { PacsflowError, type Logger } from '@pacsflow/core'
import { isValidUid } from '@pacsflow/imaging'
import type { ReceiverSpool } from '../spool-port.js'
import { normaliseAddress, type AssociationInfo } from './association-policy.js'
import { DEFAULT_TRANSFER_SYNTAXES } from './presentation.js'
import type { StoreEvent } from './stats.js'

/** TLS for the receiver (a Node TLS server). Each of key, cert, ca is a PEM file's path or the PEM itself. */
export interface ScpTlsOptions {
  readonly key: string | Uint8Array
  readonly cert: string | Uint8Array
  /** CA certificate(s) that sign the clients' certificates (with `requestCert`). */
  readonly ca?: string | Uint8Array
  /** Ask senders for a certificate (default false). */
  readonly requestCert?: boolean
  /** With `requestCert`: refuse a sender whose certificate `ca` did not sign (default true). */
  readonly rejectUnauthorized?: boolean
}

export interface StoreScpOptions {
  /** Our AE title: 1-16 characters, no backslash or control characters (PS3.5 6.2). */
  readonly aet: string
  /** TCP port; 0 picks a free one (read it from the result). */
  readonly port: number
  /** Address to listen on (default '127.0.0.1'; '0.0.0.0' or '::' for every interface). */
  readonly host?: string
  /** Where received objects go: `createSpool(...)` from @pacsflow/spool. */
  readonly spool: ReceiverSpool
  /** Calling AE titles allowed to associate (default: any). */
  readonly allowedCallingAets?: readonly string[]
  /** Peer IP addresses allowed to associate (default: any). */
  readonly allowedPeers?: readonly string[]
  /** Reject associations whose called AE title is not `aet` (default true). */
  readonly checkCalledAet?: boolean
  /** Associations open at once; more are rejected as transient, local limit exceeded (default 16). */
  readonly maxAssociations?: number
  readonly tls?: ScpTlsOptions
  /** Transfer syntaxes accepted for storage, in no particular order (default: DEFAULT_TRANSFER_SYNTAXES). */
  readonly transferSyntaxes?: readonly string[]
  /** Private SOP classes to accept as storage besides the standard ones. */
  readonly extraSopClasses?: readonly string[]
  /** The maximum PDU length we announce (default 262144; 4096-16777216). */
  readonly maxPduLength?: number
  /** Limit for a peer's A-ASSOCIATE-RQ after connecting, and between PDUs (default 60000 ms). */
  readonly timeoutMs?: number
  /** When closing: how long in-flight C-STOREs may take to finish (default 30000 ms). */
  readonly closeTimeoutMs?: number
  /** After the built-in checks: return false to reject (permanent, no reason given). */
  readonly onAssociation?: (info: AssociationInfo) => boolean | void
  /** Called after every C-STORE is answered. */
  readonly onStore?: (event: StoreEvent) => void
  readonly log?: Logger
}

export interface ResolvedScpOptions {
  readonly aet: string
  readonly port: number
  readonly host: string
  readonly allowedCallingAets: ReadonlySet<string> | undefined
  readonly allowedPeers: ReadonlySet<string> | undefined
  readonly checkCalledAet: boolean
  readonly maxAssociations: number
  readonly tls: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } | undefined
  readonly transferSyntaxes: ReadonlySet<string>
  readonly extraSopClasses: ReadonlySet<string>
  readonly maxPduLength: number
  readonly timeoutMs: number
  readonly closeTimeoutMs: number
}

function invalid(message: string, details?: Record<string, unknown>): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', message, details === undefined ? {} : { details })
}

/** Throws INVALID_OPTIONS unless `aet` is a usable AE title (PS3.5 6.2: 16 characters, default repertoire, no backslash). */
export function checkAet(aet: unknown, what: string): string {
  if (typeof aet !== 'string' || aet.trim() === '' || aet.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(aet)) {
    throw invalid(`${what} ${JSON.stringify(aet)} is not an AE title: 1-16 printable ASCII characters, no backslash`, { [what]: aet })
  }
  return aet.trim()
}

function integer(value: unknown, what: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(`${what} must be an integer in ${min}-${max}`, { [what]: value })
  return value
}

/** A PEM given as a path or as its text (or bytes). */
function pem(value: unknown, what: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (typeof value === 'string' && value.includes('-----BEGIN')) return Buffer.from(value)
  if (typeof value === 'string' && existsSync(value)) return readFileSync(value)
  throw invalid(`tls.${what} must be the path of a PEM file, or PEM text`, { [what]: typeof value === 'string' ? value : typeof value })
}

function tlsOf(tls: ScpTlsOptions | undefined): ResolvedScpOptions['tls'] {
  if (tls === undefined) return undefined
  if (typeof tls !== 'object' || tls === null) throw invalid('tls must be { key, cert, ca?, requestCert?, rejectUnauthorized? }')
  return {
    key: pem(tls.key, 'key'),
    cert: pem(tls.cert, 'cert'),
    ...(tls.ca === undefined ? {} : { ca: pem(tls.ca, 'ca') }),
    requestCert: tls.requestCert === true,
    rejectUnauthorized: tls.rejectUnauthorized !== false,
  }
}

function uidSet(values: readonly string[] | undefined, what: string, fallback: readonly string[]): ReadonlySet<string> {
  const list = values ?? fallback
  if (!Array.isArray(list) || list.some((uid) => typeof uid !== 'string' || !isValidUid(uid))) throw invalid(`${what} must be a list of UIDs`)
  return new Set(list)
}

/** Checks and completes the options; throws INVALID_OPTIONS. */
export function resolveScpOptions(options: StoreScpOptions): ResolvedScpOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options are required')
  const spool = options.spool as Partial<ReceiverSpool> | undefined
  if (typeof spool?.incomingPath !== 'function' || typeof spool.commit !== 'function') throw invalid('spool must be a Spool (createSpool from @pacsflow/spool)')
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw invalid('host must be an address or host name')
  const peers = options.allowedPeers
  if (peers !== undefined && (!Array.isArray(peers) || peers.some((peer) => typeof peer !== 'string' || isIP(peer) === 0))) {
    throw invalid('allowedPeers must be a list of IP addresses', { allowedPeers: peers })
  }
  const callers = options.allowedCallingAets
  if (callers !== undefined && !Array.isArray(callers)) throw invalid('allowedCallingAets must be a list of AE titles')
  const transferSyntaxes = uidSet(options.transferSyntaxes, 'transferSyntaxes', DEFAULT_TRANSFER_SYNTAXES)
  if (transferSyntaxes.size === 0) throw invalid('transferSyntaxes must not be empty')
  for (const hook of ['onAssociation', 'onStore'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw invalid(`${hook} must be a function`)
  }
  return {
    aet: checkAet(options.aet, 'aet'),
    port: integer(options.port ?? -1, 'port', 0, 65535, 0),
    host,
    allowedCallingAets: callers === undefined ? undefined : new Set(callers.map((aet) => checkAet(aet, 'allowedCallingAets entry'))),
    allowedPeers: peers === undefined ? undefined : new Set(peers.map(normaliseAddress)),
    checkCalledAet: options.checkCalledAet !== false,
    maxAssociations: integer(options.maxAssociations, 'maxAssociations', 1, 1000, 16),
    tls: tlsOf(options.tls),
    transferSyntaxes,
    extraSopClasses: uidSet(options.extraSopClasses, 'extraSopClasses', []),
    maxPduLength: integer(options.maxPduLength, 'maxPduLength', 4096, 16 * 1024 * 1024, 256 * 1024),
    timeoutMs: integer(options.timeoutMs, 'timeoutMs', 100, 3_600_000, 60_000),
    closeTimeoutMs: integer(options.closeTimeoutMs, 'closeTimeoutMs', 0, 3_600_000, 30_000),
  }
}
