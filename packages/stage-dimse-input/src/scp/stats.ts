// What the receiver did: counts of associations and instances, and the event given for every C-STORE.
import type { CommitResult } from '../spool-port.js'

/** One C-STORE answered: what came, from whom, the status we answered and what the spool made of it. */
export interface StoreEvent {
  readonly callingAet: string
  readonly peerAddress: string
  readonly messageId: number
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** The accepted context's transfer syntax: the file's. Absent when the request was refused before it was written. */
  readonly transferSyntaxUid?: string
  /** The status answered: 0x0000 success, 0xA700 out of resources, 0xC000 cannot understand, 0x0122 SOP class not supported. */
  readonly status: number
  readonly errorComment?: string
  /** The spool's answer (absent when nothing was committed). */
  readonly commit?: CommitResult
  /** Data set bytes received. */
  readonly bytes: number
}

/** A snapshot of the counters (plain JSON). */
export interface ScpStatsSnapshot {
  readonly activeAssociations: number
  readonly associationsAccepted: number
  readonly associationsRejected: number
  readonly echoes: number
  /** Answered success: stored, duplicate or new version. */
  readonly received: number
  readonly stored: number
  readonly duplicates: number
  readonly newVersions: number
  readonly quarantined: number
  /** Answered a failure status other than for a quarantined object. */
  readonly failed: number
  readonly bytesReceived: number
}

export class ScpStats {
  activeAssociations = 0
  associationsAccepted = 0
  associationsRejected = 0
  echoes = 0
  received = 0
  stored = 0
  duplicates = 0
  newVersions = 0
  quarantined = 0
  failed = 0
  bytesReceived = 0

  record(event: StoreEvent): void {
    const status = event.commit?.status
    if (event.status === 0x0000) this.received++
    if (status === 'stored') this.stored++
    else if (status === 'duplicate') this.duplicates++
    else if (status === 'new-version') this.newVersions++
    else if (status === 'quarantined') this.quarantined++
    if (event.status !== 0x0000 && status !== 'quarantined') this.failed++
  }

  snapshot(): ScpStatsSnapshot {
    return {
      activeAssociations: this.activeAssociations,
      associationsAccepted: this.associationsAccepted,
      associationsRejected: this.associationsRejected,
      echoes: this.echoes,
      received: this.received,
      stored: this.stored,
      duplicates: this.duplicates,
      newVersions: this.newVersions,
      quarantined: this.quarantined,
      failed: this.failed,
      bytesReceived: this.bytesReceived,
    }
  }
}
