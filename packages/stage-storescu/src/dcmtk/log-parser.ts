// Reads DCMTK storescu's debug log line by line into per-file outcomes, as the in-process transport reports them.
import { PacsflowError, type Logger } from '@pacsflow/core'
import type { SendItem } from '../input.js'
import { resultFromStatus, type TransportHooks } from '../transport.js'

/**
 * The lines this parser relies on (storescu 3.6.x with `--debug`):
 *
 *     I: Sending file: /path/f.dcm
 *     I: Sending Store Request (MsgID 1, MR)
 *     D: ===================== INCOMING DIMSE MESSAGE ====================
 *     D: DIMSE Status                  : 0x0000: Success
 *     D: Error Comment                 : ...
 *     D: ======================= END DIMSE MESSAGE =======================
 *     E: No presentation context for: (MRe) 1.2.840.10008.5.1.4.1.1.4.1
 *     E: Store Failed, file: /path/f.dcm:            (then the reason on the next line)
 *     F: Association Rejected:                        (then result, source and reason lines)
 *     F: Association Request Failed: ...              (then the cause, e.g. Connection refused)
 */
export class StorescuLogParser {
  private current: SendItem | undefined
  private incoming = false
  private status: number | undefined
  private comment: string | undefined
  private expecting: 'store-failure' | 'rejection' | 'connection' | undefined
  private context: string[] = []
  /** What stopped storescu before every file had an outcome (connection, rejection, lost association). */
  error: PacsflowError | undefined

  constructor(
    private readonly byPath: ReadonlyMap<string, SendItem>,
    private readonly hooks: TransportHooks,
    private readonly log: Logger,
  ) {}

  line(text: string): void {
    const level = text.slice(0, 3)
    const body = text.slice(3)
    if (this.expecting !== undefined && (level === 'E: ' || level === 'F: ')) {
      this.context.push(body.trim())
      if (this.context.length >= 3) this.finishFailure()
      return
    }
    if (this.expecting !== undefined) this.finishFailure()
    if (level === 'D: ') this.debugLine(body)
    else if (level === 'I: ') this.infoLine(body)
    else if (level === 'E: ' || level === 'F: ') this.errorLine(body)
    else if (level === 'W: ') this.log.warn({ storescu: body }, 'storescu warning')
  }

  private infoLine(body: string): void {
    if (body.startsWith('Sending file: ')) {
      this.current = this.byPath.get(body.slice('Sending file: '.length))
    } else if (body.startsWith('Sending Store Request') && this.current !== undefined) {
      this.hooks.intent(this.current)
    }
  }

  private debugLine(body: string): void {
    if (body.startsWith('===================== INCOMING DIMSE MESSAGE')) {
      this.incoming = true
      this.status = undefined
      this.comment = undefined
    } else if (this.incoming && body.startsWith('DIMSE Status')) {
      const match = /:\s*0x([0-9a-fA-F]{4})/.exec(body)
      if (match?.[1] !== undefined) this.status = Number.parseInt(match[1], 16)
    } else if (this.incoming && body.startsWith('Error Comment')) {
      this.comment = body.slice(body.indexOf(':') + 1).trim()
    } else if (this.incoming && body.startsWith('======================= END DIMSE MESSAGE')) {
      this.incoming = false
      if (this.current !== undefined && this.status !== undefined) {
        this.hooks.result(this.current, resultFromStatus(this.current, this.status, this.comment))
        this.current = undefined
      }
    }
  }

  private errorLine(body: string): void {
    if (body.startsWith('No presentation context for:') && this.current !== undefined) {
      const item = this.current
      this.current = undefined
      const error = new PacsflowError('STORE_SOP_CLASS_REFUSED', `the PACS accepted no presentation context for SOP class ${item.sopClassUid} (${item.path})`, {
        details: { sopClassUid: item.sopClassUid, path: item.path },
      })
      this.hooks.result(item, { kind: 'failed', error })
    } else if (body.startsWith('Store Failed, file:')) {
      this.startFailure('store-failure', '')
    } else if (body.startsWith('Association Rejected')) {
      this.startFailure('rejection', '')
    } else if (body.startsWith('Association Request Failed:')) {
      this.startFailure('connection', body.slice('Association Request Failed:'.length))
    } else {
      this.log.debug({ storescu: body }, 'storescu error line')
    }
  }

  private startFailure(kind: 'store-failure' | 'rejection' | 'connection', rest: string): void {
    this.expecting = kind
    this.context = rest.trim() === '' ? [] : [rest.trim()]
  }

  /** Call when the log ends: a failure whose explanation was still being read is recorded with what was read. */
  end(): void {
    if (this.expecting !== undefined) this.finishFailure()
  }

  /** A failure whose explanation has been read: the file in flight stays without outcome and is retried. */
  private finishFailure(): void {
    const reason = this.context.join('; ')
    const kind = this.expecting
    this.expecting = undefined
    this.current = undefined
    if (kind === 'rejection') {
      this.error ??= new PacsflowError('STORE_ASSOCIATION_REJECTED', `storescu: the PACS rejected the association: ${reason}`, {
        retryable: true,
        details: { transient: /transient/i.test(reason) },
      })
    } else if (/TLS error|certificate/i.test(reason)) {
      // Retrying does not mend a certificate.
      this.error ??= new PacsflowError('STORE_CONNECTION_FAILED', `storescu: ${reason}`, { retryable: false })
    } else if (/timeout/i.test(reason)) {
      this.error ??= new PacsflowError('STORE_TIMEOUT', `storescu: ${reason}`, { retryable: true })
    } else {
      this.error ??= new PacsflowError('STORE_CONNECTION_FAILED', `storescu: ${reason}`, { retryable: true })
    }
  }
}
