// The descriptors of stage-storescu: what it takes, how it is configured, and the receipt it returns.
import type { SerializedError } from '@pacsflow/core'
import type { DicomSeries, DicomStudy } from '@pacsflow/imaging'

/** DICOM files to send: a series, a study (every series), or paths (files or folders, recursively). */
export type StorescuInput = DicomSeries | DicomStudy | { readonly files: readonly string[] }

/** TLS to the PACS. Paths to PEM files; without `cert`/`key` the connection is anonymous TLS. */
export interface TlsOptions {
  /** The CA certificate(s) that sign the PACS's certificate. */
  readonly ca?: string
  /** Our certificate, for PACS that require client authentication (with `key`). */
  readonly cert?: string
  readonly key?: string
  /** Check the PACS's certificate against `ca` (default true). */
  readonly rejectUnauthorized?: boolean
}

/** Retries of connection failures, rejections, timeouts and 0xA7xx statuses, within one stage run. */
export interface SendRetryOptions {
  /** Rounds in a row without progress before giving up (default 6; 1 disables retries). */
  readonly maxAttempts?: number
  /** Wait before the second round, in ms (default 1000). */
  readonly initialDelayMs?: number
  /** Longest wait, in ms (default 30000). */
  readonly maxDelayMs?: number
  /** Growth of the wait per round (default 2). */
  readonly factor?: number
  /** Randomise each wait within [delay/2, delay] (default true). */
  readonly jitter?: boolean
}

export interface StorescuOptions {
  /** The PACS's host name or address. */
  readonly host: string
  readonly port: number
  /** The PACS's AE title. */
  readonly calledAet: string
  /** Ours (default 'PACSFLOW'). */
  readonly callingAet?: string
  /** TLS (default off); `true` is TLS with the system's CAs. */
  readonly tls?: boolean | TlsOptions
  /** 'dimse' (default): dcmjs-dimse in this process. 'dcmtk': DCMTK's storescu executable. */
  readonly transport?: 'dimse' | 'dcmtk'
  /** Associations open at once (default 1, at most 16); each sends its share of the files. */
  readonly maxAssociations?: number
  readonly retry?: SendRetryOptions
  /** Afterwards, ask the PACS (C-FIND at IMAGE level) whether it holds every instance (default false). */
  readonly verify?: boolean
  /** Limit for connecting, negotiating, and each response, in ms (default 60000). */
  readonly timeoutMs?: number
  /** The stage's name (default 'storescu'); give two sends in one pipeline different names. */
  readonly name?: string
  /** DCMTK's storescu executable, for `transport: 'dcmtk'` (default 'storescu' from PATH). */
  readonly storescuPath?: string
}

/**
 * - `stored`: the PACS answered success in this run.
 * - `warning`: stored, but the PACS answered a warning (0xBxxx...): see `dimseStatus` and `note`.
 * - `already-stored`: acknowledged in an earlier run (the outbox), or found on the PACS by C-FIND
 *   after a crash left its outcome unknown; not sent again.
 * - `failed`: not stored; `error` says why.
 */
export type InstanceStatus = 'stored' | 'warning' | 'already-stored' | 'failed'

export interface InstanceReceipt {
  readonly sopInstanceUid: string
  readonly sopClassUid: string
  readonly path: string
  readonly status: InstanceStatus
  /** The C-STORE response status, when there was one. */
  readonly dimseStatus?: number
  /** The transfer syntax it travelled in (its own unless the PACS accepted only another). */
  readonly transferSyntaxUid?: string
  /** The PACS's error comment, a warning's meaning, or how an earlier outcome was established. */
  readonly note?: string
  readonly error?: SerializedError
}

/** What `storescu` returns: one entry per SOP instance, and the totals. */
export interface StoreReceipt {
  readonly destination: {
    readonly host: string
    readonly port: number
    readonly calledAet: string
    readonly callingAet: string
    readonly tls: boolean
  }
  readonly transport: 'dimse' | 'dcmtk'
  readonly total: number
  readonly stored: number
  readonly warnings: number
  readonly alreadyStored: number
  readonly failed: number
  /** Send rounds this run took (1 when nothing had to be retried). */
  readonly rounds: number
  /** With `verify`: how many instances the PACS confirmed holding, and which it lacked. */
  readonly verified?: { readonly confirmed: number; readonly missing: readonly string[] }
  readonly instances: readonly InstanceReceipt[]
}
