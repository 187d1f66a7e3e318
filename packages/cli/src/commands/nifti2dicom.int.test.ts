// `pacsflow nifti2dicom` on a real reference: files that dciodvfy accepts, the same UIDs on a second run.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { groupStudies, indexDicom, niftiLayout, writeNifti } from '@pacsflow/imaging'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { UsageError } from '../command.js'
import { nifti2dicomCommand } from './nifti2dicom.js'

const dataDir = testDataDir()
const ready = dataDir !== undefined && haveTools('dciodvfy')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-n2d-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Runs the command as `pacsflow nifti2dicom ...` would (main.ts parses the same way). */
async function cli(...argv: string[]) {
  const out: string[] = []
  const args = parseArgs({ args: argv, options: nifti2dicomCommand.options, allowPositionals: true, strict: true })
  const code = await nifti2dicomCommand.run(args, { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: {}, cwd: scratch, isTty: false })
  return { code, stdout: out.join('') }
}

function dciodvfyErrors(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const run = spawnSync('dciodvfy', [join(dir, name)], { encoding: 'utf8' })
    return `${run.stdout}${run.stderr}`.split('\n').filter((line) => /^\s*Error/.test(line)).map((line) => `${name}: ${line}`)
  })
}

describe.skipIf(!ready)('pacsflow nifti2dicom', () => {
  const setup = (async () => {
    copyTestSeries('dcm_qa_xa30i/gre_field_mapping_9001_9002_10001', join(scratch, 'exam'))
    const { instances } = await indexDicom(join(scratch, 'exam'))
    const series = groupStudies(instances).flatMap((study) => study.series).find((s) => s.seriesNumber === 9001)!
    const layout = niftiLayout(series.volumes[0]!, series)
    const data = Float32Array.from({ length: layout.dims[0] * layout.dims[1] * layout.dims[2] }, (_, n) => ((n % 97) - 48) * 0.01)
    await writeNifti(join(scratch, 'chi.nii.gz'), { data, dims: layout.dims, affine: layout.affine })
  })()

  it('writes a valid series on the chosen reference, and the same UIDs when run again', async () => {
    await setup
    const first = await cli('--reference', 'exam', '--series', '9001', 'chi.nii.gz', 'out', '--profile', 'brainlab', '--json')
    expect(first.code).toBe(0)
    const summary = JSON.parse(first.stdout) as { files: string[]; seriesInstanceUid: string; encoding: { slope: number; profile: string } }
    expect(summary.files).toHaveLength(33)
    expect(summary.encoding).toMatchObject({ slope: 0.001, profile: 'brainlab' })
    expect(dciodvfyErrors(join(scratch, 'out'))).toEqual([])
    const again = await cli('--reference', 'exam', '--series', '9001', 'chi.nii.gz', 'out-again', '--profile', 'brainlab', '--json')
    expect((JSON.parse(again.stdout) as { seriesInstanceUid: string }).seriesInstanceUid).toBe(summary.seriesInstanceUid)
    const text = await cli('--reference', 'exam', '--series', '9001', 'chi.nii.gz', 'out-text', '--unsigned', '--clamp=-0.35,0.35', '--description', 'QSM nav')
    expect(text.stdout).toMatch(/33 DICOM file\(s\) in .*out-text: series 10001 "QSM nav"/)
    expect(text.stdout).toMatch(/stored value = \(value - -32\.768\) \/ 0\.001 ppm, unsigned 16-bit, \d+ voxel\(s\) clamped/)
  })

  it('asks which series when the folder holds several, and checks its arguments', async () => {
    await setup
    const ambiguous = await cli('--reference', 'exam', 'chi.nii.gz', 'out-x').catch((error: unknown) => error)
    expect(isPacsflowError(ambiguous, 'DICOMISE_REFERENCE') && ambiguous.message).toMatch(/3 series .*--series/)
    await expect(cli('chi.nii.gz', 'out-y')).rejects.toThrow(UsageError)
    await expect(cli('--reference', 'exam', 'chi.nii.gz')).rejects.toThrow(UsageError)
    await expect(cli('--reference', 'exam', 'chi.nii.gz', 'o', '--grid', 'mni')).rejects.toThrow(UsageError)
    await expect(cli('--reference', 'exam', 'chi.nii.gz', 'o', '--clamp', '1')).rejects.toThrow(UsageError)
  })
})
