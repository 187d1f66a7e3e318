import { describe, expect, it } from 'vitest'
import { checkAssociation, normaliseAddress, type AssociationInfo, type AssociationPolicy } from './association-policy.js'

const info: AssociationInfo = { callingAet: 'SCANNER', calledAet: 'PACSFLOW', peerAddress: '127.0.0.1', peerPort: 50000, tls: false }
const policy: AssociationPolicy = { aet: 'PACSFLOW', checkCalledAet: true, maxAssociations: 2 }

describe('association checks (PS3.8 Table 9-21)', () => {
  it('accepts what passes every check', () => {
    expect(checkAssociation(info, policy, 0)).toBeUndefined()
    expect(checkAssociation({ ...info, calledAet: ' PACSFLOW ' }, policy, 1)).toBeUndefined()
  })

  it('rejects a wrong called AE title permanently, service user, reason 7 (unless the check is off)', () => {
    expect(checkAssociation({ ...info, calledAet: 'OTHER' }, policy, 0)).toMatchObject({ result: 1, source: 1, reason: 7 })
    expect(checkAssociation({ ...info, calledAet: 'OTHER' }, { ...policy, checkCalledAet: false }, 0)).toBeUndefined()
  })

  it('rejects a calling AE title outside the allow-list with reason 3, and a peer address outside it with reason 1', () => {
    const allow = { ...policy, allowedCallingAets: new Set(['MODALITY']), allowedPeers: new Set(['127.0.0.1']) }
    expect(checkAssociation(info, allow, 0)).toMatchObject({ result: 1, source: 1, reason: 3 })
    expect(checkAssociation({ ...info, callingAet: 'MODALITY', peerAddress: '::ffff:10.0.0.9' }, allow, 0)).toMatchObject({ result: 1, source: 1, reason: 1 })
    expect(checkAssociation({ ...info, callingAet: 'MODALITY', peerAddress: '::ffff:127.0.0.1' }, allow, 0)).toBeUndefined()
  })

  it('rejects past the association limit as transient, service provider (presentation), local limit exceeded', () => {
    expect(checkAssociation(info, policy, 2)).toMatchObject({ result: 2, source: 3, reason: 2 })
  })

  it('asks onAssociation last, and rejects when it says false', () => {
    const asked: AssociationInfo[] = []
    const hook = { ...policy, onAssociation: (seen: AssociationInfo) => (asked.push(seen), seen.callingAet !== 'SCANNER') }
    expect(checkAssociation(info, hook, 0)).toMatchObject({ result: 1, source: 1, reason: 1, why: 'refused by onAssociation' })
    expect(checkAssociation({ ...info, calledAet: 'OTHER' }, hook, 0)).toMatchObject({ reason: 7 })
    expect(asked).toHaveLength(1)
    const throwing = { ...policy, onAssociation: () => { throw new Error('directory down') } }
    expect(checkAssociation(info, throwing, 0)).toMatchObject({ result: 1, reason: 1, why: 'onAssociation threw: directory down' })
  })

  it('writes IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(normaliseAddress('::ffff:192.168.1.2')).toBe('192.168.1.2')
    expect(normaliseAddress('::1')).toBe('::1')
    expect(normaliseAddress('FE80::1')).toBe('fe80::1')
  })
})
