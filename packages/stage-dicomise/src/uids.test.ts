import { describe, expect, it } from 'vitest'
import { isValidUid } from '@pacsflow/imaging'
import { derivedUid, seriesUids } from './uids.js'

describe('deterministic UIDs', () => {
  it('are valid PS3.5 9.1 UIDs under 2.25, at most 44 characters, from an RFC 9562 version 8 UUID', () => {
    for (let i = 0; i < 500; i++) {
      const uid = derivedUid('job', String(i))
      expect(isValidUid(uid), uid).toBe(true)
      expect(uid.startsWith('2.25.')).toBe(true)
      expect(uid.length).toBeLessThanOrEqual(44)
      const hex = BigInt(uid.slice(5)).toString(16).padStart(32, '0')
      expect(hex[12]).toBe('8') // version
      expect(['8', '9', 'a', 'b']).toContain(hex[16]) // variant 10
    }
  })

  it('repeat for the same seed and input, and differ when either changes', () => {
    const a = seriesUids('job-1', 'digest-a')
    const again = seriesUids('job-1', 'digest-a')
    expect(again.seriesInstanceUid).toBe(a.seriesInstanceUid)
    expect(again.instanceUid(7)).toBe(a.instanceUid(7))
    expect(seriesUids('job-2', 'digest-a').seriesInstanceUid).not.toBe(a.seriesInstanceUid)
    expect(seriesUids('job-1', 'digest-b').seriesInstanceUid).not.toBe(a.seriesInstanceUid)
    const instances = new Set(Array.from({ length: 400 }, (_, k) => a.instanceUid(k)))
    expect(instances.size).toBe(400)
    expect(instances.has(a.seriesInstanceUid)).toBe(false)
    expect(derivedUid('ab', 'c')).not.toBe(derivedUid('a', 'bc'))
  })
})
