// isValidUid against PS3.5 9.1: digits and single dots, no leading zeros, at most 64 characters.
import { describe, expect, it } from 'vitest'
import { isValidUid } from './uid.js'

describe('isValidUid', () => {
  it('accepts PS3.5 9.1 UIDs', () => {
    for (const uid of ['1', '0', '1.2.840.10008.1.2.1', '1.3.12.2.1107.5.2.43.67060.202107151401342432605723.0.0.0', '2.25.0', `1.${'9'.repeat(62)}`]) {
      expect(isValidUid(uid), uid).toBe(true)
    }
  })

  it('refuses paths, empty and padded values, leading zeros, empty components and over-long UIDs', () => {
    for (const uid of ['', '../x', '..', '1..2', '.1', '1.', '1.02', '01.2', '1.2 ', ' 1.2', '1.2\0', '1/2', '1.2.a', '1.-2', `1.${'9'.repeat(63)}`]) {
      expect(isValidUid(uid), JSON.stringify(uid)).toBe(false)
    }
  })
})
