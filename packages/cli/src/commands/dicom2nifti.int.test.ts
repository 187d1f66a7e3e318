// `pacsflow dicom2nifti` on real scanner data, with a bad file mixed in.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { copyTestSeries, testDataDir } from '@pacsflow/testkit'
import { runCli } from '../main.js'

const haveData = testDataDir() !== undefined
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-d2n-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function cli(...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: scratch, isTty: false })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

describe.skipIf(!haveData)('pacsflow dicom2nifti', () => {
  it('writes one NIfTI and sidecar per volume', async () => {
    copyTestSeries('dcm_qa_fmap/Siemens_2_gre_field_magph', join(scratch, 'in'))
    const { code, stdout, stderr } = await cli('dicom2nifti', 'in', 'out')
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain('2 NIfTI file(s) from 72 DICOM file(s)')
    expect(readdirSync(join(scratch, 'out')).sort()).toEqual([
      '2_gre_field_magph_e1.json',
      '2_gre_field_magph_e1.nii',
      '2_gre_field_magph_e2.json',
      '2_gre_field_magph_e2.nii',
    ])
  })

  it('reports a non-DICOM file with its code, converts the rest, and exits 1', async () => {
    copyTestSeries('dcm_qa_fmap/Siemens_3_gre_field_magph', join(scratch, 'mixed'))
    writeFileSync(join(scratch, 'mixed', 'notes.txt'), 'not an image')
    const { code, stdout, stderr } = await cli('dicom2nifti', 'mixed', 'mixed-out', '--gzip', '--json')
    expect(code).toBe(1)
    expect(stderr).toMatch(/skipped .*notes\.txt: DICOM_INVALID/)
    const summary = JSON.parse(stdout) as { written: { niftiPath: string; complexComponent: string }[]; failures: number }
    expect(summary.failures).toBe(1)
    expect(summary.written).toHaveLength(1)
    expect(summary.written[0]).toMatchObject({ complexComponent: 'phase', niftiPath: expect.stringMatching(/_e2_ph\.nii\.gz$/) })
  })

  it('checks its arguments', async () => {
    expect((await cli('dicom2nifti', 'only-one')).code).toBe(2)
    expect((await cli('dicom2nifti', 'a', 'b', '--phase', 'degrees')).code).toBe(2)
  })
})
