// The stand-ins themselves: they refuse (exit 2) what the pinned tools' CLIs refuse, so the stage tests can fail.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { antsRegistrationArgs, elastixArgs, hdBetArgs } from './command-lines.js'
import { removeDir, tempDir } from './test-support/fixtures.js'
import { installStandIns, type StandIns } from './test-support/stand-ins.js'

let root: string
let tools: StandIns

beforeAll(() => {
  root = tempDir('stand-ins')
  tools = installStandIns(root)
})
afterAll(() => removeDir(root))

function call(tool: string, args: readonly string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(join(tools.binDir, tool), args, { env: { ...process.env, PATH: `${tools.binDir}:${process.env.PATH}`, ...env }, encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('stand-in tools refuse what the real CLIs refuse', () => {
  it('qsmxt v8: unknown flags, bad choices, and no --auto_yes', () => {
    const v8 = { STANDIN_QSMXT_VERSION: '8.3.4' }
    expect(call('qsmxt', ['--version'], v8)).toMatchObject({ status: 0, output: '[INFO]: QSMxT v8.3.4\n' })
    expect(call('qsmxt', ['/b', '/o', '--premade', 'gre', '--auto_yes', '--bogus'], v8)).toMatchObject({ status: 2, output: expect.stringContaining('unrecognized arguments: --bogus') })
    expect(call('qsmxt', ['/b', '/o', '--premade', 'nope', '--auto_yes'], v8)).toMatchObject({ status: 2, output: expect.stringContaining("invalid choice: 'nope'") })
    expect(call('qsmxt', ['/b', '/o', '--premade', 'gre'], v8)).toMatchObject({ status: 2, output: expect.stringContaining('would prompt') })
    expect(call('qsmxt', ['/b', '/o', '--auto_yes', '--use_existing_masks', 'maybe'], v8).status).toBe(2)
  })

  it('qsmxt v9: only run, its flags, and --use-custom-masks from 9.6', () => {
    expect(call('qsmxt', ['--version'], { STANDIN_QSMXT_VERSION: '9.13.0' }).output).toMatch(/^qsmxt 9\.13\.0\n/)
    expect(call('qsmxt', ['/b', '/o']).status).toBe(2)
    expect(call('qsmxt', ['run', '/b', '--n_procs', '2']).status).toBe(2)
    expect(call('qsmxt', ['run', '/b', '/o', '--use-custom-masks', 'pacsflow'], { STANDIN_QSMXT_VERSION: '9.5.0' })).toMatchObject({ status: 2, output: expect.stringContaining('--use-custom-masks') })
    expect(call('qsmxt', ['run', '/b', '/o', '--mask-preset', 'fancy']).status).toBe(2)
  })

  it('hd-bet: each generation refuses the other generation flags', () => {
    const v2 = hdBetArgs(2, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: 'cpu', tta: false, mode: 'fast' })
    const v1 = hdBetArgs(1, { input: '/i.nii.gz', output: '/o.nii.gz', gpu: 'cpu', tta: false, mode: 'fast' })
    expect(call('hd-bet', v1, { STANDIN_HDBET_VERSION: '2' })).toMatchObject({ status: 2, output: expect.stringContaining('unrecognized arguments: -mode') })
    expect(call('hd-bet', v2, { STANDIN_HDBET_VERSION: '1' })).toMatchObject({ status: 2, output: expect.stringContaining('unrecognized arguments: --disable_tta') })
    expect(call('hd-bet', ['--help'], { STANDIN_HDBET_VERSION: '2' }).output).toContain('--save_bet_mask')
    expect(call('hd-bet', ['-i', '/i.nii.gz', '-o', '/o.nii'], { STANDIN_HDBET_VERSION: '2' })).toMatchObject({ status: 1, output: expect.stringContaining('must end with .nii.gz') })
  })

  it('antsRegistration: incomplete stages, bad syntax, mismatched levels, unknown flags', () => {
    const good = antsRegistrationArgs({ fixed: '/f.nii', moving: '/m.nii', prefix: '/p_', initialTransform: 'none' })
    const without = (flag: string) => good.filter((_, i) => good[i] !== flag && good[i - 1] !== flag)
    expect(call('antsRegistration', without('--convergence'))).toMatchObject({ status: 2, output: expect.stringContaining('needs one --convergence') })
    expect(call('antsRegistration', good.map((a) => (a === '8x4x2x1' ? '8x4x2' : a)))).toMatchObject({ status: 2, output: expect.stringContaining('does not match') })
    expect(call('antsRegistration', good.map((a) => (a === 'Rigid[0.1]' ? 'Rigid(0.1)' : a))).status).toBe(2)
    expect(call('antsRegistration', [...good, '--bogus', '1']).status).toBe(2)
    // Well-formed, but the images do not exist: the tool fails (exit 1), it does not refuse the syntax.
    expect(call('antsRegistration', good).status).toBe(1)
  })

  it('antsApplyTransforms and elastix: unknown or missing flags', () => {
    expect(call('antsApplyTransforms', ['-d', '3', '-i', '/a', '--bogus']).status).toBe(2)
    expect(call('elastix', elastixArgs({ fixed: '/f', moving: '/m', parameters: '/p', outDir: '/o' }).slice(0, 4)).status).toBe(2)
    expect(call('elastix', ['-f', '/f', '-m', '/m', '-p', '/p', '-out', '/o', '-threads', 'many']).status).toBe(1)
  })

  it('apptainer and docker: unknown flags, bad --gpus, missing images and bind paths', () => {
    expect(call('apptainer', ['run', '--gpu', 'img.sif', 'qsmxt']).status).toBe(2)
    expect(call('apptainer', ['run', join(root, 'absent.sif'), 'qsmxt', '--version']).status).toBe(255)
    expect(call('docker', ['run', '--gpus', 'some', 'img', 'qsmxt']).status).toBe(2)
    expect(call('docker', ['run', '-v', '/does/not/exist:/x', 'img', 'qsmxt']).status).toBe(255)
    expect(call('docker', ['run', '--rm', 'img', 'qsmxt', '--version'], { STANDIN_QSMXT_VERSION: '8.3.4' })).toMatchObject({ status: 0, output: '[INFO]: QSMxT v8.3.4\n' })
  })
})
