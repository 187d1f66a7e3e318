// toNifti's phase options and sidecar on real Siemens and Philips phase data.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { indexDicom } from '../dicom/index.js'
import { unpackFolder } from '../dicom/test-fixtures.js'
import { readNifti, scaledData } from '../nifti/index.js'
import { groupStudies } from '../series/group.js'
import { testDataDir } from '../test-support/tools.js'
import { toNifti } from './to-nifti.js'

const dataDir = testDataDir()
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-radians-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function seriesOf(folder: string) {
  const target = join(scratch, folder.replace(/\//g, '_'))
  await unpackFolder(folder, target)
  const { instances } = await indexDicom(target)
  return groupStudies(instances)[0]!.series[0]!
}

function range(values: Float32Array | Float64Array): [number, number] {
  let [min, max] = [Infinity, -Infinity]
  for (const v of values) [min, max] = [Math.min(min, v), Math.max(max, v)]
  return [min, max]
}

describe.skipIf(dataDir === undefined)('phase in radians', () => {
  it('keeps the stored integers and rescales Siemens phase into [-pi, pi)', async () => {
    const series = await seriesOf('dcm_qa_fmap/Siemens_3_gre_field_magph')
    const [native] = await toNifti(series, { outDir: join(scratch, 'native') })
    const [radians] = await toNifti(series, { outDir: join(scratch, 'radians'), phase: 'radians' })
    const a = await readNifti(native!.niftiPath)
    const b = await readNifti(radians!.niftiPath)
    expect(Array.from(b.data)).toEqual(Array.from(a.data))
    const [min, max] = range(scaledData(b))
    expect(min).toBeGreaterThanOrEqual(-Math.PI - 1e-6)
    expect(max).toBeLessThan(Math.PI)
    expect(max - min).toBeGreaterThan(6) // the data spans the cycle
    // Native reads as the scanner's -4096..4094; radians is that times pi/4096.
    const scaledNative = scaledData(a)
    const scaledRadians = scaledData(b)
    for (const i of [0, 1000, 50_000]) expect(scaledRadians[i]).toBeCloseTo((scaledNative[i]! * Math.PI) / 4096, 5)
  })

  it('leaves Philips precise phase as it is: radians already', async () => {
    const series = await seriesOf('dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping')
    const outputs = await toNifti(series, { outDir: join(scratch, 'philips'), phase: 'radians', filter: (v) => v.complexComponent === 'phase' })
    expect(outputs).toHaveLength(2)
    const [min, max] = range(scaledData(await readNifti(outputs[0]!.niftiPath)))
    expect(min).toBeGreaterThanOrEqual(-Math.PI - 1e-3)
    expect(max).toBeLessThanOrEqual(Math.PI + 1e-3)
  })

  it('writes a BIDS-style sidecar with SI units and no patient data', async () => {
    const series = await seriesOf('dcm_qa_fmap/Siemens_2_gre_field_magph')
    const [first] = await toNifti(series, { outDir: join(scratch, 'sidecar') })
    const sidecar = JSON.parse(readFileSync(first!.sidecarPath!, 'utf8')) as Record<string, unknown>
    expect(sidecar).toMatchObject({
      EchoNumber: 1,
      MagneticFieldStrength: 3,
      Manufacturer: 'SIEMENS',
      SeriesNumber: 2,
      ConversionSoftware: 'pacsflow',
    })
    expect(sidecar.EchoTime).toBeCloseTo(0.00519, 6)
    expect(sidecar.ImagingFrequency).toBeCloseTo(123.2, 0)
    expect(JSON.stringify(sidecar)).not.toMatch(/PatientName|PatientID|BirthDate/)
  })
})
