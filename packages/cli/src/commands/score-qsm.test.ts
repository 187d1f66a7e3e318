// `pacsflow score-qsm`, called directly with a capturing io, on an exam make-exam wrote.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError, type Command } from '../command.js'
import { makeExamCommand } from './make-exam.js'
import { scoreQsmCommand } from './score-qsm.js'
import { runCommand } from '../test-support/run-command.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-cli-score-qsm-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const run = (command: Command, ...argv: string[]) => runCommand(command, scratch, ...argv)

describe('pacsflow score-qsm', () => {
  it('prints the score table, or JSON', async () => {
    await run(makeExamCommand, 'scored', '--echoes', '1', '--t1', 'none')
    const { code, stdout } = await run(scoreQsmCommand, 'scored/truth/chi.nii', 'scored/truth')
    expect(code).toBe(0)
    expect(stdout).toMatch(/NRMSE\s+0\.0 %/)
    expect(stdout).toMatch(/globus pallidus\s+\d+\s+0\.\d{4}\s+0\.\d{4}/)
    expect(stdout).toContain('fit over')
    const json = await run(scoreQsmCommand, 'scored/truth/local-field.nii', 'scored/truth', '--json', '--erosion', '3')
    const score = JSON.parse(json.stdout) as { nrmse: number; interior: { erosionMm: number } }
    expect(score.nrmse).toBeGreaterThan(50)
    expect(score.interior.erosionMm).toBe(3)
    // It makes a whole exam first (about 5-10 s alone on 2 cores, 58 s once on a loaded CI machine): two minutes.
  }, 120_000)

  it('refuses bad arguments', async () => {
    await expect(run(scoreQsmCommand, 'only-one')).rejects.toThrow(UsageError)
    await expect(run(scoreQsmCommand, 'a', 'b', '--erosion=-1')).rejects.toThrow(UsageError)
  })
})
