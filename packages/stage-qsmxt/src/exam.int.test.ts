// The testkit exam through the stage with real dcm2niix and real elastix (stand-ins for HD-BET and QSMxT):
// the T1, moved by a known rigid misalignment, is registered to the first-echo magnitude within 0.5 mm and 0.5 degrees.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apply, groupStudies, indexDicom, multiply, qsmRoles, readNiftiHeader, selectSeries, type Mat4 } from '@pacsflow/imaging'
import { haveTools, makeExam } from '@pacsflow/testkit'
import { qsmxt } from './index.js'
import { removeDir, stageContext, tempDir } from './test-support/fixtures.js'
import { installStandIns, withEnv } from './test-support/stand-ins.js'
import { lpsToRasTransform, rotationDegrees } from './transforms.js'

const ready = haveTools('dcm2niix', 'elastix')

let root: string
let restore: () => void
beforeAll(() => {
  root = tempDir('exam')
  const tools = installStandIns(root, ['qsmxt', 'hd-bet'])
  restore = withEnv({ PATH: `${tools.binDir}:${process.env.PATH}`, STANDIN_LOG: tools.logFile })
})
afterAll(() => {
  restore()
  removeDir(root)
})

describe.skipIf(!ready)('testkit exam, real dcm2niix and elastix', () => {
  it('recovers the T1 misalignment (3, -2, 4 degrees; 4, -3, 2 mm) within 0.5 mm and 0.5 degrees', async () => {
    const manifest = await makeExam(join(root, 'exam'), { preset: 'small', t1: { misalignment: { rotationDegrees: [3, -2, 4], translationMm: [4, -3, 2] } } })
    const truth = JSON.parse(readFileSync(manifest.truth.json, 'utf8')) as { t1: { misalignment: { greToT1WorldLps: Mat4 } }; headCentreLps: [number, number, number] }
    const expected = lpsToRasTransform(truth.t1.misalignment.greToT1WorldLps)
    const { instances } = await indexDicom(manifest.dicomDir)
    const { magnitude, phase, t1 } = selectSeries(groupStudies(instances)[0]!, qsmRoles)
    const workDir = join(root, 'work')
    const result = await qsmxt({ converter: 'dcm2niix', registration: 'elastix' }).run({ magnitude, phase, t1 }, stageContext(workDir))

    expect(result.target).toMatchObject({ role: 't1', volumeId: t1.volumes[0]!.id })
    expect(result.echoTimesMs).toEqual(manifest.echoTimesMs)
    const found = result.registration!.t1!
    // Point error over a 120 x 140 x 100 mm box around the head centre (RAS), and the angle between the rotations.
    const [x, y, z] = [-truth.headCentreLps[0], -truth.headCentreLps[1], truth.headCentreLps[2]]
    let worst = 0
    for (const dx of [-60, 60]) for (const dy of [-70, 70]) for (const dz of [-50, 50]) {
      const p = [x + dx, y + dy, z + dz] as const
      const [a, b] = [apply(found, p), apply(expected, p)]
      worst = Math.max(worst, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]))
    }
    const transposed: Mat4 = [
      [expected[0][0], expected[1][0], expected[2][0], 0],
      [expected[0][1], expected[1][1], expected[2][1], 0],
      [expected[0][2], expected[1][2], expected[2][2], 0],
      [0, 0, 0, 1],
    ]
    expect(worst).toBeLessThan(0.5)
    expect(rotationDegrees(multiply(found, transposed))).toBeLessThan(0.5)
    expect((await readNiftiHeader(result.chiOnTarget)).dims).toEqual((await readNiftiHeader(join(workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat', 'sub-01_ses-01_T1w.nii.gz'))).dims)
  }, 120_000)
})
