// C-STORE statuses sort into success, warning, transient and failure as PS3.4 B.2.3 and PS3.7 C say.
import { describe, expect, it } from 'vitest'
import { classifyStoreStatus, describeStoreStatus } from './status.js'
import { resultFromStatus } from './transport.js'

const item = { path: '/x.dcm', sizeBytes: 1, sopClassUid: '1.2', sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2.1', studyInstanceUid: '1', seriesInstanceUid: '2' }

describe('classifyStoreStatus', () => {
  it.each([
    [0x0000, 'success'],
    [0xb000, 'warning'],
    [0xb006, 'warning'],
    [0xb007, 'warning'],
    [0x0001, 'warning'],
    [0xa700, 'transient'],
    [0xa7ff, 'transient'],
    [0x0213, 'transient'],
    [0xa900, 'failure'],
    [0xa9ff, 'failure'],
    [0xc000, 'failure'],
    [0xcfff, 'failure'],
    [0x0122, 'failure'],
    [0x0124, 'failure'],
    [0x0211, 'failure'],
    [0xfe00, 'failure'],
    [0x1234, 'failure'],
  ] as const)('0x%s is %s', (status, expected) => {
    expect(classifyStoreStatus(status)).toBe(expected)
  })

  it('names statuses for messages', () => {
    expect(describeStoreStatus(0xa702)).toBe('0xA702 Refused: out of resources')
    expect(describeStoreStatus(0xc123)).toBe('0xC123 Error: cannot understand')
    expect(describeStoreStatus(0x0122)).toBe('0x0122 Refused: SOP class not supported')
  })
})

describe('resultFromStatus', () => {
  it('keeps a warning as stored, with what it means', () => {
    expect(resultFromStatus(item, 0xb000, 'coerced')).toEqual({ kind: 'stored', status: 0xb000, comment: '0xB000 Warning: coercion of data elements: coerced' })
  })

  it('makes out-of-resources retryable and a refusal final, with coded errors', () => {
    const transient = resultFromStatus(item, 0xa700, undefined)
    expect(transient).toMatchObject({ kind: 'failed', status: 0xa700, error: { code: 'STORE_OUT_OF_RESOURCES', retryable: true } })
    const refused = resultFromStatus(item, 0xa900, 'wrong class')
    expect(refused).toMatchObject({ kind: 'failed', status: 0xa900, error: { code: 'STORE_FAILED', retryable: false } })
    expect(refused.kind === 'failed' && refused.error.message).toContain('0xA900 Error: data set does not match SOP class (wrong class)')
  })
})
