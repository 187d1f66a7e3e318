// The README's main job: `npm run demo` runs the folder-to-folder example end to end on the
// synthetic exam with no external tool. Here with the small preset, to keep the suite quick.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const repo = resolve(import.meta.dirname, '../../..')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-demo-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('npm run demo (examples/folder-to-folder.ts)', () => {
  it('writes the QSM series, a PNG mosaic, and a summary with the accuracy', async () => {
    const out = join(scratch, 'demo')
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', 'examples/folder-to-folder.ts', '--preset', 'small', '--out', out], {
      cwd: repo,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    })
    expect(stdout).toMatch(/magnitude\s+series\s+3 "gre_qsm_4echo": 4 volume\(s\) of 64x64x48/)
    expect(stdout).toMatch(/t1\s+series\s+2 "t1_mprage_sag"/)
    for (const stage of ['select', 'qsm-native', 'dicomise', 'folder-output']) expect(stdout).toMatch(new RegExp(`^  ${stage}\\s+[\\d.]+ s$`, 'm'))
    expect(stdout).toMatch(/NRMSE\s+[\d.]+ %/)
    // Plain progress lines (not a terminal): each stage started and finished.
    expect(stdout).toMatch(/qsm-native: done in [\d.]+ s/)
    expect(stdout).not.toContain('\x1b[')
    const written = Number(/output\s+(\d+) DICOM files/.exec(stdout)?.[1])
    expect(written).toBeGreaterThan(20)
    expect(readdirSync(join(out, 'output')).filter((name) => name.endsWith('.dcm'))).toHaveLength(written)
    const png = readFileSync(join(out, 'qsm-mosaic.png'))
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG')
    expect(existsSync(join(out, 'exam', 'truth', 'chi.nii'))).toBe(true)
    // The drop folder was emptied into the spool, and the study acknowledged.
    expect(readdirSync(join(out, 'drop'))).toEqual([])
  }, 150_000)
})
