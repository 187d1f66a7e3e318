// What the written files say about themselves: patient and study from the reference, its frame of
// reference, derived image type, references to the reference images, equipment, comments.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { groupStudies, indexDicom, naturalize, niftiLayout, readDicomDataset, type DicomSeries } from '@pacsflow/imaging'
import { testDataDir } from '@pacsflow/testkit'
import { niftiToDicom } from './nifti-to-dicom.js'
import { loadSeries, syntheticNifti, unpack } from './test-support/fixtures.js'
import { version } from './version.js'

const dataDir = testDataDir()
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-dicomise-identity-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

type Dataset = Record<string, unknown>
const datasetOf = async (path: string): Promise<Dataset> => naturalize((await readDicomDataset(path)).dict)

describe.skipIf(dataDir === undefined)('identity of the derived series', () => {
  const setup = (async () => {
    const reference = await loadSeries(unpack(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', scratch), 2)
    const layout = niftiLayout(reference.volumes[0]!, reference)
    const nifti = join(scratch, 'chi.nii.gz')
    await syntheticNifti(nifti, layout.dims, layout.affine, ([i, j, k]) => Math.cos(i + j) * 0.2 + k * 0.003)
    return { reference, nifti }
  })()

  const encode = async (outDir: string, options: Parameters<typeof niftiToDicom>[1] = {}, uidSeed = 'job-1') => {
    const { reference, nifti } = await setup
    return niftiToDicom({ nifti, reference, outDir: join(scratch, outDir), uidSeed }, options)
  }

  it('copies patient, study and frame of reference from the reference, and marks itself derived by pacsflow', async () => {
    const { reference } = await setup
    const result = await encode('qsm', { seriesDescription: 'QSM for STN targeting', seriesNumber: 902, processing: 'QSMxT 7.2 (RTS)' })
    const source = await datasetOf(reference.volumes[0]!.frames[0]!.path)
    const ours = await datasetOf(result.files[0]!)
    for (const keyword of ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyInstanceUID', 'StudyDate', 'StudyTime', 'StudyID', 'StudyDescription', 'FrameOfReferenceUID', 'PatientPosition']) {
      expect(ours[keyword], keyword).toEqual(source[keyword])
    }
    expect(ours).toMatchObject({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
      Modality: 'MR',
      ImageType: ['DERIVED', 'SECONDARY', 'QSM'],
      SeriesDescription: 'QSM for STN targeting',
      SeriesNumber: 902,
      Manufacturer: 'pacsflow',
      SoftwareVersions: `pacsflow ${version}`,
      BurnedInAnnotation: 'NO',
      ImageComments: 'NOT FOR DIAGNOSTIC USE',
      RescaleSlope: 0.001,
      RescaleIntercept: 0,
      RescaleType: 'PPM',
      PixelRepresentation: 1,
      BitsStored: 16,
    })
    expect(ours.DerivationDescription).toMatch(/magnetic susceptibility \(QSM\) in ppm; QSMxT 7\.2 \(RTS\), on the grid of series 2 "gre_field_magph" \(already on it: not resampled\)/)
    expect(ours.DerivationDescription).toMatch(/quantisation step 0\.001 ppm/)
    expect(ours.SeriesInstanceUID).not.toBe(reference.seriesInstanceUid)
  })

  it('returns the series exactly as indexing the written files does', async () => {
    const result = await encode('indexed', { grid: 'reference' })
    const { instances } = await indexDicom(result.outDir)
    expect(result.series).toEqual(groupStudies(instances)[0]!.series[0])
    const own = await encode('indexed-own', { grid: 'own', profile: 'stealthstation' })
    expect(own.series).toEqual(groupStudies((await indexDicom(own.outDir)).instances)[0]!.series[0])
  })

  it('cites, slice by slice, the reference image at the same position', async () => {
    const { reference } = await setup
    const result = await encode('refs')
    const frames = reference.volumes[0]!.frames
    for (const [k, file] of result.files.entries()) {
      const ours = await datasetOf(file)
      const cited = { ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4', ReferencedSOPInstanceUID: frames[k]!.sopInstanceUid }
      // (naturalize adds a _vrMap to each item, hence toMatchObject on one-item lists.)
      expect(ours.SourceImageSequence).toHaveLength(1)
      expect(ours.SourceImageSequence).toMatchObject([cited])
      expect(ours.ReferencedSeriesSequence).toHaveLength(1)
      expect(ours.ReferencedSeriesSequence).toMatchObject([{ ReferencedInstanceSequence: [cited], SeriesInstanceUID: reference.seriesInstanceUid }])
      expect(ours.ImagePositionPatient).toEqual([...frames[k]!.position])
      expect(ours.InstanceNumber).toBe(k + 1)
    }
  })

  it('cites the frames of an enhanced multi-frame reference by number', async () => {
    const enhanced = await loadSeries(unpack(dataDir!, 'dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', scratch), 6)
    const volume = enhanced.volumes[0]!
    const layout = niftiLayout(volume, enhanced)
    const nifti = join(scratch, 'bold-derived.nii.gz')
    await syntheticNifti(nifti, layout.dims.slice(0, 3) as [number, number, number], layout.affine, ([i, j, k]) => i * 0.01 - j * 0.02 + k * 0.1)
    const result = await niftiToDicom({ nifti, reference: enhanced, outDir: join(scratch, 'enhanced'), uidSeed: 'enh' })
    expect(result.files).toHaveLength(volume.slices)
    for (const [k, file] of result.files.entries()) {
      const frame = volume.frames[k]!
      expect((await datasetOf(file)).SourceImageSequence).toMatchObject([
        { ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4.1', ReferencedSOPInstanceUID: frame.sopInstanceUid, ReferencedFrameNumber: frame.frame + 1 },
      ])
    }
  })

  it('derives its UIDs from the seed and the input: the same again, new ones for another job or other options', async () => {
    const uids = (series: DicomSeries): string[] => [series.seriesInstanceUid, ...series.instances.map((i) => i.sopInstanceUid).sort()]
    const first = await encode('uid-a')
    const again = await encode('uid-b')
    expect(uids(again.series)).toEqual(uids(first.series))
    expect((await encode('uid-c', {}, 'job-2')).series.seriesInstanceUid).not.toBe(first.series.seriesInstanceUid)
    expect((await encode('uid-d', { profile: 'stealthstation' })).series.seriesInstanceUid).not.toBe(first.series.seriesInstanceUid)
  })

  it('leaves the comment out on request, and applies the navigation profiles', async () => {
    const plain = await datasetOf((await encode('plain', { notForDiagnosticUse: false })).files[0]!)
    expect(plain.ImageComments).toBeUndefined()
    const stealth = await encode('stealth', { profile: 'stealthstation' })
    const first = await datasetOf(stealth.files[0]!)
    // The reference has 3 mm slices 3.6 mm apart: navigation profiles write no gap.
    expect(first).toMatchObject({ PixelRepresentation: 0, SliceThickness: 3.6, SpacingBetweenSlices: 3.6, RescaleIntercept: -32.768 })
    expect(stealth.encoding.rules).toEqual(['single-frame', 'shared-frame-of-reference', 'no-slice-gaps', 'unsigned-pixels'])
    const pacs = await datasetOf((await encode('pacs')).files[0]!)
    expect(pacs.SliceThickness).toBe(3)
  })

  it('refuses a 4D input and a volume that does not overlap the reference', async () => {
    const { reference } = await setup
    const code = async (nifti: string): Promise<string | undefined> =>
      niftiToDicom({ nifti, reference, outDir: join(scratch, 'refused'), uidSeed: 'x' }).then(
        () => undefined,
        (error: unknown) => (isPacsflowError(error) ? error.code : String(error)),
      )
    const fourD = join(scratch, 'four-d.nii')
    const { writeNifti } = await import('@pacsflow/imaging')
    await writeNifti(fourD, { data: new Float32Array(2 * 2 * 2 * 3), dims: [2, 2, 2, 3], affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] })
    expect(await code(fourD)).toBe('DICOMISE_INPUT')
    const far = join(scratch, 'far.nii')
    await writeNifti(far, { data: new Float32Array(8).fill(1), dims: [2, 2, 2], affine: [[1, 0, 0, 5000], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] })
    expect(await code(far)).toBe('DICOMISE_INPUT')
  })
})
