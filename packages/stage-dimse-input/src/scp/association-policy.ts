// Who may associate: called AE title, calling AE allow-list, peer addresses, the association limit, and the site's own check.
import { isIPv4 } from 'node:net'
import { RejectReason, RejectResult, RejectSource } from '../dimse/constants.js'

/** What the receiver knows about an association when it decides on it (also given to `onAssociation`). */
export interface AssociationInfo {
  readonly callingAet: string
  readonly calledAet: string
  /** The peer's IP address (IPv4-mapped IPv6 addresses as plain IPv4). */
  readonly peerAddress: string
  readonly peerPort: number
  readonly tls: boolean
  /** With TLS and client certificates: whether the peer's certificate verified against `tls.ca`. */
  readonly peerCertificateAuthorized?: boolean
  /** With TLS: the subject CN of the peer's certificate, when it sent one. */
  readonly peerCertificateSubject?: string
}

/** An A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21) and why, for the log. */
export interface Rejection {
  readonly result: number
  readonly source: number
  readonly reason: number
  readonly why: string
}

export interface AssociationPolicy {
  readonly aet: string
  /** Compare the called AE title with ours (default true). */
  readonly checkCalledAet: boolean
  readonly allowedCallingAets?: ReadonlySet<string>
  readonly allowedPeers?: ReadonlySet<string>
  readonly maxAssociations: number
  readonly onAssociation?: (info: AssociationInfo) => boolean | void
}

/** `::ffff:127.0.0.1` as `127.0.0.1`, so an allow-list entry matches either form. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(address)
  return mapped !== null && isIPv4(mapped[1]!) ? mapped[1]! : address.toLowerCase()
}

/** AE titles are compared without their leading and trailing spaces (PS3.5 6.2: spaces are not significant there). */
export function normaliseAet(aet: string): string {
  return aet.trim()
}

const permanent = (reason: number, why: string): Rejection => ({ result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason, why })

/**
 * The rejection an association gets, or undefined to accept it. Checked in this order: the
 * called AE title (reason 7), the peer address (1, no reason given: PS3.8 has no code for an
 * address), the calling AE title (3), the association limit (transient, source 3, reason 2
 * local-limit-exceeded), then the site's `onAssociation` (1).
 */
export function checkAssociation(info: AssociationInfo, policy: AssociationPolicy, active: number): Rejection | undefined {
  if (policy.checkCalledAet && normaliseAet(info.calledAet) !== policy.aet) {
    return permanent(RejectReason.CalledAeNotRecognized, `called AE title '${info.calledAet}' is not ours ('${policy.aet}')`)
  }
  if (policy.allowedPeers !== undefined && !policy.allowedPeers.has(normaliseAddress(info.peerAddress))) {
    return permanent(RejectReason.NoReasonGiven, `peer address ${info.peerAddress} is not in allowedPeers`)
  }
  if (policy.allowedCallingAets !== undefined && !policy.allowedCallingAets.has(normaliseAet(info.callingAet))) {
    return permanent(RejectReason.CallingAeNotRecognized, `calling AE title '${info.callingAet}' is not in allowedCallingAets`)
  }
  if (active >= policy.maxAssociations) {
    return {
      result: RejectResult.Transient,
      source: RejectSource.ProviderPresentation,
      reason: RejectReason.LocalLimitExceeded,
      why: `${active} associations are open (maxAssociations ${policy.maxAssociations})`,
    }
  }
  try {
    if (policy.onAssociation?.(info) === false) return permanent(RejectReason.NoReasonGiven, 'refused by onAssociation')
  } catch (error) {
    return permanent(RejectReason.NoReasonGiven, `onAssociation threw: ${(error as Error).message}`)
  }
  return undefined
}
