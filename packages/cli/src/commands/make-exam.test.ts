// `pacsflow make-exam`, called directly with a capturing io.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError, type Command } from '../command.js'
import { makeExamCommand } from './make-exam.js'
import { runCommand } from '../test-support/run-command.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-make-exam-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const run = (command: Command, ...argv: string[]) => runCommand(command, scratch, ...argv)

describe('pacsflow make-exam', () => {
  it('writes the small exam and says where', async () => {
    const { code, stdout } = await run(makeExamCommand, 'exam', '--preset', 'small', '--seed', '9', '--echoes', '2', '--t1', 'none')
    expect(code).toBe(0)
    expect(stdout).toMatch(/^exam written to exam in [\d.]+ s: preset small \(64x64x48 at 3 mm\), 2 echoes TE 4\/10 ms, SNR 100, oblique 0 deg, seed 9/)
    expect(stdout).toContain('series 3 magnitude gre_qsm_2echo    96 files  exam/dicom/03_gre_qsm_2echo')
    expect(stdout).toContain('series 4 phase     gre_qsm_2echo    96 files  exam/dicom/04_gre_qsm_2echo_phase')
    expect(stdout).not.toContain('T1')
    expect(stdout).toContain('truth  exam/truth')
  }, 60_000)

  it('takes --oblique with or without an angle, and the T1 options', async () => {
    const tilted = await run(makeExamCommand, '--oblique', '12', 'tilted', '--echoes', '1', '--snr', 'inf', '--misalign', '1,0,2,3,0,-1', '--json')
    const manifest = JSON.parse(tilted.stdout) as { parameters: { obliqueDegrees: number; snr: number | null; t1: { rotationDegrees: number[]; translationMm: number[] } }; truth: { json: string } }
    expect(manifest.parameters.obliqueDegrees).toBe(12)
    expect(manifest.parameters.snr).toBeNull()
    expect(manifest.parameters.t1.rotationDegrees).toEqual([1, 0, 2])
    expect(manifest.parameters.t1.translationMm).toEqual([3, 0, -1])
    expect(JSON.parse(readFileSync(manifest.truth.json, 'utf8')).parameters.obliqueDegrees).toBe(12)
    const plain = await run(makeExamCommand, 'plain', '--oblique', '--echoes', '1', '--t1', 'none', '--json')
    expect((JSON.parse(plain.stdout) as { parameters: { obliqueDegrees: number } }).parameters.obliqueDegrees).toBe(15)
  }, 60_000)

  it('refuses bad arguments', async () => {
    for (const argv of [[], ['a', 'b'], ['a', '--preset', 'large'], ['a', '--snr', 'loud'], ['a', '--misalign', '1,2'], ['a', '--t1', 'coronal'], ['a', 'b', '--oblique']]) {
      await expect(run(makeExamCommand, ...argv), argv.join(' ')).rejects.toThrow(UsageError)
    }
  })
})
