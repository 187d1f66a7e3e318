// Headers of every real series: counts, UIDs, echoes, components, geometry, scaling; a sample checked against DCMTK.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveTools } from '../test-support/tools.js'
import { indexDicom, readDicomHeader, type DicomInstance } from './index.js'
import { dataDir, dcmdumpValues, SERIES, unpackSeries, type SeriesKey } from './test-fixtures.js'
import { isValidUid } from './uid.js'

const byKey = new Map<SeriesKey, DicomInstance[]>()
let scratch = ''

function series(key: SeriesKey): DicomInstance[] {
  const instances = byKey.get(key)
  if (instances === undefined) throw new Error(`${key} not indexed`)
  return instances
}

function countBy<T>(values: readonly T[], keyOf: (value: T) => string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[keyOf(value)] = (counts[keyOf(value)] ?? 0) + 1
  return counts
}

describe.skipIf(dataDir === undefined)('readDicomHeader / indexDicom on real scanner data', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-dicom-'))
    for (const key of Object.keys(SERIES) as SeriesKey[]) {
      const folder = join(scratch, key)
      await unpackSeries(key, folder)
      const { instances, problems } = await indexDicom(folder)
      expect(problems).toEqual([])
      byKey.set(key, instances)
    }
  }, 60_000)

  afterAll(async () => {
    if (scratch !== '') await rm(scratch, { recursive: true, force: true })
  })

  it('Siemens classic GRE: 72 magnitude images, 2 echoes of 36, duplicate instance numbers kept apart', () => {
    const all = series('siemens2')
    expect(all).toHaveLength(72)
    expect(new Set(all.map((i) => i.seriesInstanceUid)).size).toBe(1)
    expect(new Set(all.map((i) => i.sopInstanceUid)).size).toBe(72)
    expect(countBy(all, (i) => `${i.frames[0]?.echoNumber}@${i.frames[0]?.echoTime}`)).toEqual({ '1@5.19': 36, '2@7.65': 36 })
    expect(new Set(all.map((i) => i.instanceNumber)).size).toBe(36)
    const first = all.find((i) => i.path.endsWith('e1_01.dcm'))
    expect(first).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4', transferSyntaxUid: '1.2.840.10008.1.2.1', rows: 64, columns: 64,
      bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0, samplesPerPixel: 1, numberOfFrames: 1,
      photometricInterpretation: 'MONOCHROME2', hasPixelData: true, manufacturer: 'SIEMENS', seriesNumber: 2, modality: 'MR',
    })
    expect(first?.frames).toEqual([expect.objectContaining({
      index: 0, imagePositionPatient: [-104, -104, -63], imageOrientationPatient: [1, 0, 0, 0, 1, 0], pixelSpacing: [3.25, 3.25],
      sliceThickness: 3, spacingBetweenSlices: 3.6, complexComponent: 'magnitude', rescaleSlope: 1, rescaleIntercept: 0,
    })])
    expect(first?.philipsScale).toBeUndefined()
  })

  it('Siemens phase difference: ImageType P → phase, rescale 2 / -4096, echo 2', () => {
    const all = series('siemens3')
    expect(all).toHaveLength(36)
    for (const instance of all) {
      expect(instance.imageType[2]).toBe('P')
      expect(instance.frames[0]).toMatchObject({ complexComponent: 'phase', rescaleSlope: 2, rescaleIntercept: -4096, echoNumber: 2, echoTime: 7.65 })
    }
  })

  it('XA30 classic: sagittal T1 and the 3-series field map share one study', () => {
    const t1 = series('xa30T1')
    expect(t1).toHaveLength(96)
    expect(t1[0]?.frames[0]).toMatchObject({ imageOrientationPatient: [0, 1, 0, 0, 0, -1], pixelSpacing: [2, 2], complexComponent: 'magnitude' })
    expect(t1[0]).toMatchObject({ rows: 128, columns: 128, mrAcquisitionType: '3D' })
    const gre = series('xa30Gre')
    expect(gre).toHaveLength(99)
    expect(countBy(gre, (i) => `${i.seriesNumber}:${i.frames[0]?.complexComponent}:${i.frames[0]?.echoTime}`))
      .toEqual({ '9001:magnitude:10': 33, '9002:magnitude:12.46': 33, '10001:phase:12.46': 33 })
    const study = '1.3.12.2.1107.5.2.43.67093.30000023010910000844400000021'
    expect(new Set([...t1, ...gre].map((i) => i.studyInstanceUid))).toEqual(new Set([study]))
    const phase = gre.find((i) => i.seriesNumber === 10001)
    expect(phase?.frames[0]).toMatchObject({ rescaleSlope: 2, rescaleIntercept: -4096 })
  })

  it('Philips classic: 212 files, magnitude and phase for each of 2 echoes, per-file rescale and private scale', () => {
    const all = series('philips')
    expect(all).toHaveLength(212)
    expect(countBy(all, (i) => `e${i.frames[0]?.echoNumber}@${i.frames[0]?.echoTime}:${i.frames[0]?.complexComponent}`))
      .toEqual({ 'e1@2.3:magnitude': 53, 'e1@2.3:phase': 53, 'e2@4.6:magnitude': 53, 'e2@4.6:phase': 53 })
    for (const instance of all) {
      const frame = instance.frames[0]
      expect(instance.philipsScale).toBeDefined()
      if (frame?.complexComponent === 'magnitude') {
        expect(instance.imageType).toContain('M_FFE')
        expect(frame).toMatchObject({ rescaleSlope: 1.29157509157509, rescaleIntercept: 0 })
        expect(instance.philipsScale?.slope).toBeCloseTo(0.000237988992, 12)
      } else {
        expect(instance.imageType).toContain('PHASE MAP')
        expect(frame).toMatchObject({ rescaleSlope: 1.53455433455433, rescaleIntercept: -3142 })
        expect(instance.philipsScale).toEqual({ slope: Math.fround(651.739502), intercept: Math.fround(2047.50012) })
      }
    }
    expect(all[0]).toMatchObject({ manufacturer: 'Philips', mrAcquisitionType: '3D', scanningSequence: ['GR'], softwareVersions: '5.7.1\\5.7.1.1' })
  })

  it('Siemens enhanced multi-frame: 4 files × 6 frames from the functional groups', () => {
    const all = series('enhanced')
    expect(all).toHaveLength(4)
    for (const [file, instance] of all.entries()) {
      expect(instance).toMatchObject({ sopClassUid: '1.2.840.10008.5.1.4.1.1.4.1', numberOfFrames: 6, rows: 64, columns: 64 })
      expect(instance.frames).toHaveLength(6)
      expect(instance.frames.map((f) => f.inStackPositionNumber)).toEqual([1, 2, 3, 4, 5, 6])
      expect(instance.frames.map((f) => f.temporalPositionIndex)).toEqual(Array(6).fill(file + 1))
      expect(instance.frames.map((f) => f.dimensionIndexValues)).toEqual([1, 2, 3, 4, 5, 6].map((slice) => [1, slice, file + 1]))
      const z = instance.frames.map((f) => f.imagePositionPatient?.[2] ?? Number.NaN)
      for (let i = 1; i < z.length; i++) expect((z[i] as number) - (z[i - 1] as number)).toBeCloseTo(2.4, 4)
      for (const frame of instance.frames) {
        expect(frame).toMatchObject({ echoTime: 30, complexComponent: 'magnitude', pixelSpacing: [3.375, 3.375], sliceThickness: 2.4, stackId: '1' })
        expect(frame.imageOrientationPatient?.map((v) => Math.round(v) + 0)).toEqual([1, 0, 0, 0, 1, 0])
      }
    }
    expect(all[0]).toMatchObject({ repetitionTime: 500, flipAngle: 52, sequenceName: '*epfid2d1_64', acquisitionTime: '083634.135000' })
  })

  it('gives valid UIDs, one frame per classic file, and the same instance from readDicomHeader', async () => {
    for (const instances of byKey.values()) {
      for (const instance of instances) {
        for (const uid of [instance.studyInstanceUid, instance.seriesInstanceUid, instance.sopInstanceUid]) expect(isValidUid(uid)).toBe(true)
        expect(instance.frames).toHaveLength(instance.numberOfFrames)
      }
    }
    const one = series('philips')[5] as DicomInstance
    expect(await readDicomHeader(one.path)).toEqual(one)
    expect(JSON.parse(JSON.stringify(one))).toEqual(one)
  })

  it.skipIf(!haveTools('dcmdump'))('agrees with DCMTK on UIDs, geometry, echo and scaling for a sample of files', async () => {
    const tags = ['0020,000d', '0020,000e', '0008,0018', '0008,0008', '0020,0032', '0020,0037', '0028,0030', '0018,0081', '0028,1053', '2005,100e']
    for (const instances of byKey.values()) {
      for (const instance of instances.filter((_, i) => i % 11 === 0)) {
        const dump = await dcmdumpValues(instance.path, tags)
        const numbers = (tag: string): number[] | undefined => dump.get(tag)?.map(Number)
        expect([instance.studyInstanceUid, instance.seriesInstanceUid, instance.sopInstanceUid])
          .toEqual([dump.get('0020,000d')?.[0], dump.get('0020,000e')?.[0], dump.get('0008,0018')?.[0]])
        expect(instance.imageType).toEqual(dump.get('0008,0008'))
        const philips = numbers('2005,100e')?.[0]
        if (philips !== undefined) expect(instance.philipsScale?.slope).toBeCloseTo(philips, 6)
        if (instance.numberOfFrames > 1) continue
        const frame = instance.frames[0]
        expect(frame?.imagePositionPatient).toEqual(numbers('0020,0032'))
        expect(frame?.imageOrientationPatient).toEqual(numbers('0020,0037'))
        expect(frame?.pixelSpacing).toEqual(numbers('0028,0030'))
        expect(frame?.echoTime).toBe(numbers('0018,0081')?.[0])
        expect(frame?.rescaleSlope).toBe(numbers('0028,1053')?.[0] ?? 1)
      }
    }
  })
})
