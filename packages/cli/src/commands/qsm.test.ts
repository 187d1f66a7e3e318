// `pacsflow qsm`, called directly with a capturing io, on the testkit's small exam.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readNiftiHeader } from '@pacsflow/imaging'
import { makeExam } from '@pacsflow/testkit'
import { UsageError, type Command } from '../command.js'
import { qsmCommand } from './qsm.js'
import { runCommand } from '../test-support/run-command.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-qsm-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

beforeAll(async () => {
  await makeExam(join(scratch, 'exam'), { preset: 'small', echoes: 3 })
}, 60_000)

const run = (command: Command, ...argv: string[]) => runCommand(command, scratch, ...argv)

describe('pacsflow qsm', () => {
  it('finds the GRE and the T1, writes the NIfTIs and prints them with the timings', async () => {
    const { code, stdout } = await run(qsmCommand, 'exam/dicom', 'out', '--engine', 'native')
    expect(code).toBe(0)
    for (const name of ['chi.nii', 'mask.nii', 'local-field.nii', 'chi-t1.nii']) expect(existsSync(join(scratch, 'out', name))).toBe(true)
    expect(stdout).toContain(`chi (ppm, GRE grid):     ${join(scratch, 'out', 'chi.nii')}`)
    expect(stdout).toContain(`chi on the t1:           ${join(scratch, 'out', 'chi-t1.nii')}`)
    expect(stdout).toContain('echoes 4, 10, 16 ms at 3 T')
    expect(stdout).toMatch(/timings \(ms\): load \d+, mask \d+, unwrap \d+, fit \d+, background \d+, inversion \d+, reference \d+, write \d+; total \d+/)
    expect((await readNiftiHeader(join(scratch, 'out', 'chi.nii'))).dims).toEqual([64, 64, 48])
  })

  it('takes the engine options and prints JSON', async () => {
    const { code, stdout } = await run(qsmCommand, 'exam/dicom', 'tkd', '--inversion', 'tkd', '--background', 'vsharp', '--vsharp-radii', '6,3', '--gzip', '--threads', '1', '--json')
    expect(code).toBe(0)
    const result = JSON.parse(stdout) as { engine: string; chi: string; target: { role: string } }
    expect(result).toMatchObject({ engine: 'native', chi: join(scratch, 'tkd', 'chi.nii.gz'), target: { role: 't1' } })
  })

  it('refuses bad arguments with a UsageError and an empty folder with QSM_INPUT', async () => {
    await expect(run(qsmCommand, 'exam/dicom')).rejects.toThrow(UsageError)
    await expect(run(qsmCommand, 'exam/dicom', 'out', '--engine', 'qsmxt')).rejects.toThrow(/--engine must be native/)
    await expect(run(qsmCommand, 'exam/dicom', 'out', '--vsharp-radii', '6,x')).rejects.toThrow(/--vsharp-radii/)
    await expect(run(qsmCommand, 'exam/dicom', 'out', '--threads', '0')).rejects.toThrow(/--threads must be an integer in 1-64/)
    await expect(run(qsmCommand, 'exam/dicom', 'out', '--threads', '')).rejects.toThrow(/--threads must be an integer/)
    await expect(run(qsmCommand, 'out', 'again')).rejects.toThrow(/no DICOM study/)
  })
})
