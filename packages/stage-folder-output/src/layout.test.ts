// Output names cannot escape the folder, whatever the header says.
import { describe, expect, it } from 'vitest'
import type { DicomInstance } from '@pacsflow/imaging'
import { folderName, relativePath } from './layout.js'

const instance = (fields: Partial<DicomInstance>): DicomInstance =>
  ({ path: '/in/x.dcm', patientId: 'P1', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', ...fields }) as DicomInstance

describe('folderName', () => {
  it.each([
    ['../../etc', '.._.._etc'],
    ['a/b\\c', 'a_b_c'],
    ['', 'UNKNOWN'],
    ['..', 'UNKNOWN'],
    ['.', 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
    ['José Smith', 'Jos__Smith'],
    ['x'.repeat(80), 'x'.repeat(64)],
    ['MRN-0042_a.b', 'MRN-0042_a.b'],
  ])('%j -> %j', (input, expected) => {
    expect(folderName(input)).toBe(expected)
  })
})

describe('relativePath', () => {
  it('lays out flat or Patient/Study/Series', () => {
    expect(relativePath(instance({}), 'flat')).toBe('1.2.3.4.5.dcm')
    expect(relativePath(instance({ patientId: '../P1' }), 'patient-study-series')).toBe('.._P1/1.2.3/1.2.3.4/1.2.3.4.5.dcm')
  })

  it.each([
    ['sopInstanceUid', '../../evil'],
    ['seriesInstanceUid', '1.2/../../x'],
    ['studyInstanceUid', '1..2'],
  ] as const)('refuses a %s of %j with UID_INVALID', (field, uid) => {
    expect(() => relativePath(instance({ [field]: uid }), 'patient-study-series')).toThrow(expect.objectContaining({ code: 'UID_INVALID' }))
  })
})
