// Conversion with the real dcm2niix (stand-ins for the other tools): the BIDS echoes equal the native conversion's.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { groupStudies, indexDicom, readNifti, scaledData, type QsmDicomInput, type SelectedSeries } from '@pacsflow/imaging'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { qsmxt } from './index.js'
import { realExam, removeDir, stageContext, tempDir } from './test-support/fixtures.js'
import { installStandIns, withEnv, type StandIns } from './test-support/stand-ins.js'

const dataDir = testDataDir()
const ready = haveTools('dcm2niix') && dataDir !== undefined

let root: string
let tools: StandIns
let restore: () => void

beforeAll(() => {
  root = tempDir('convert-int')
  tools = installStandIns(root)
  restore = withEnv({ PATH: `${tools.binDir}:${process.env.PATH}`, STANDIN_LOG: tools.logFile })
})
afterAll(() => {
  restore()
  removeDir(root)
})

const anat = (workDir: string) => join(workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat')

/** Both conversions of one file: same dims, affine within 2e-4 (3x3) and 0.02 mm (origin), same scaled voxels. */
async function expectSameImage(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([readNifti(a), readNifti(b)])
  expect(x.header.dims, a).toEqual(y.header.dims)
  x.header.affine.forEach((row, r) => row.forEach((value, c) => expect(Math.abs(value - y.header.affine[r]![c]!), `${a} affine[${r}][${c}]`).toBeLessThan(c === 3 ? 0.02 : 2e-4)))
  const [vx, vy] = [scaledData(x), scaledData(y)]
  let worst = 0
  for (let i = 0; i < vx.length; i++) worst = Math.max(worst, Math.abs(vx[i]! - vy[i]!))
  expect(worst, a).toBeLessThan(1e-3)
}

async function run(converter: 'dcm2niix' | 'native', input: QsmDicomInput, name: string) {
  const workDir = join(root, name)
  const result = await qsmxt({ converter, registration: 'ants' }).run(input, stageContext(workDir))
  return { result, workDir }
}

describe.skipIf(!ready)('dcm2niix conversion into the BIDS layout', () => {
  it('Philips GRE (magnitude and phase in one series) and the XA30 T1: dcm2niix and native agree', async () => {
    const exam = await realExam(join(root, 'exam'))
    const viaTool = await run('dcm2niix', exam, 'dcm2niix')
    const native = await run('native', exam, 'native')
    const names = ['echo-1_part-mag', 'echo-1_part-phase', 'echo-2_part-mag', 'echo-2_part-phase'].map((part) => `sub-01_ses-01_${part}_MEGRE`)
    for (const name of [...names, 'sub-01_ses-01_T1w']) {
      const extension = name.endsWith('T1w') ? '.nii.gz' : '.nii'
      await expectSameImage(join(anat(viaTool.workDir), `${name}${extension}`), join(anat(native.workDir), `${name}${extension}`))
    }
    for (const [name, te] of [[names[1]!, 0.0023], [names[3]!, 0.0046]] as const) {
      const sidecar = JSON.parse(readFileSync(join(anat(viaTool.workDir), `${name}.json`), 'utf8')) as Record<string, unknown>
      expect(sidecar).toMatchObject({ EchoTime: te, MagneticFieldStrength: 3, ConversionSoftware: 'dcm2niix' })
    }
    const log = readFileSync(join(viaTool.workDir, 'logs', 'convert-gre.log'), 'utf8')
    expect(log).toMatch(/"dcm2niix","-b","y","-z","n"/)
    expect(log).toContain('Convert 53 DICOM')
    expect(viaTool.result.echoTimesMs).toEqual([2.3, 4.6])
    expect(viaTool.result.tools.find((t) => t.tool === 'dcm2niix')?.version).toMatch(/^v1\.0\.\d{8}/)
  }, 60_000)

  it('XA30 magnitude and phase in separate series, converted one run each', async () => {
    const dir = join(root, 'xa30')
    copyTestSeries('dcm_qa_xa30i/gre_field_mapping_9001_9002_10001', join(dir, 'gre'))
    copyTestSeries('dcm_qa_xa30i/5001_anat-T1w_acq-tfl', join(dir, 't1'))
    const { instances } = await indexDicom(dir)
    const [study] = groupStudies(instances)
    const bySeries = (number: number): SelectedSeries => {
      const series = study!.series.find((s) => s.seriesNumber === number)!
      return { role: String(number), series, volumes: series.volumes }
    }
    const input: QsmDicomInput = { magnitude: bySeries(9002), phase: bySeries(10001), t1: bySeries(5001) }
    const { result, workDir } = await run('dcm2niix', input, 'xa30-dcm2niix')
    expect(result.echoTimesMs).toEqual([12.46])
    const native = await run('native', input, 'xa30-native')
    for (const name of ['sub-01_ses-01_echo-1_part-mag_MEGRE.nii', 'sub-01_ses-01_echo-1_part-phase_MEGRE.nii']) await expectSameImage(join(anat(workDir), name), join(anat(native.workDir), name))
    expect(readFileSync(join(workDir, 'logs', 'convert-gre-phase.log'), 'utf8')).toContain('10001')
  }, 60_000)
})
