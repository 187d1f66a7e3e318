import { describe, expect, it } from 'vitest'
import { axialStack, instance } from '../test-support/instances.js'
import { groupSeries, groupStudies } from './group.js'
import { niftiLayout } from '../geometry/nifti-layout.js'
import type { Mat4 } from '../geometry/matrix.js'

const plain = (m: Mat4): number[][] => m.map((row) => row.map((v) => v + 0))

/** A fixed scramble (a true permutation for any length). */
const shuffle = <T>(list: readonly T[]): T[] =>
  list.map((item, i) => [(i * 7919) % 104729 % 97, i, item] as const).sort((a, b) => a[0] - b[0] || b[1] - a[1]).map(([, , item]) => item)

describe('buildVolumes', () => {
  it('splits by echo and component and orders slices along the normal, not by InstanceNumber', () => {
    const instances = [
      ...axialStack(5, { echo: 1 }),
      ...axialStack(5, { echo: 2 }),
      ...axialStack(5, { echo: 1, component: 'phase' }),
    ]
    const series = groupSeries(shuffle(instances))
    expect(series.problems).toEqual([])
    expect(series.volumes.map((v) => v.id)).toEqual(['e1-magnitude', 'e1-phase', 'e2-magnitude'])
    expect(series.echoNumbers).toEqual([1, 2])
    const volume = series.volumes[0]!
    expect(volume.frames.map((f) => f.position[2])).toEqual([0, 3, 6, 9, 12])
    expect([volume.slices, volume.timepoints, volume.sliceSpacing, volume.plane]).toEqual([5, 1, 3, 'axial'])
    // Column step along the row direction times the column spacing; origin at the first slice.
    expect(volume.affineLps).toEqual([
      [2, 0, 0, -10],
      [0, 2, 0, -20],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ])
  })

  it('follows a descending InstanceNumber order, as dcm2niix does', () => {
    const instances = axialStack(4, { echo: 1 }).map((item, k) => ({ ...item, instanceNumber: 100 - k }))
    const volume = groupSeries(instances).volumes[0]!
    expect(volume.frames.map((f) => f.position[2])).toEqual([9, 6, 3, 0])
    expect(volume.affineLps[2][2]).toBe(-3)
  })

  it('stacks repeated positions as timepoints', () => {
    const instances = [1, 2, 3].flatMap((acquisitionNumber) => axialStack(4, { acquisitionNumber }))
    const volume = groupSeries(shuffle(instances)).volumes[0]!
    expect([volume.slices, volume.timepoints]).toEqual([4, 3])
    expect(volume.frames.map((f) => f.path)).toEqual(
      [...instances].sort((a, b) => (a.acquisitionNumber ?? 0) - (b.acquisitionNumber ?? 0)).map((i) => i.path),
    )
  })

  it('reports a missing slice, uneven spacing, gantry tilt and mixed sizes as coded problems', () => {
    const missing = axialStack(6, { echo: 1 }).filter((_, k) => k !== 3)
    expect(groupSeries(missing).problems).toMatchObject([{ code: 'SLICE_MISSING', message: /1 slice\(s\) missing between 6\.00 mm and 12\.00 mm/ }])
    const uneven = axialStack(5, { echo: 1 }).map((item, k) =>
      k === 4 ? { ...item, frames: [{ ...item.frames[0]!, imagePositionPatient: [-10, -20, 13.5] as const }] } : item,
    )
    expect(groupSeries(uneven).problems).toMatchObject([{ code: 'SLICE_SPACING_UNEVEN' }])
    const tilted = axialStack(5, { echo: 1 }).map((item, k) => ({
      ...item,
      frames: [{ ...item.frames[0]!, imagePositionPatient: [-10, -20 + k * 0.5, k * 3] as const }],
    }))
    expect(groupSeries(tilted).problems).toMatchObject([{ code: 'GANTRY_TILT', details: { path: expect.any(String) } }])
    const mixed = [...axialStack(3, { echo: 1 }), instance({ echo: 1, position: [-10, -20, 9], rows: 8 })]
    expect(groupSeries(mixed).problems).toMatchObject([{ code: 'SERIES_INCONSISTENT', message: /mixed matrix size/ }])
    const partial4d = [...axialStack(3, { acquisitionNumber: 1 }), ...axialStack(2, { acquisitionNumber: 2 })]
    expect(groupSeries(partial4d).problems).toMatchObject([{ code: 'SLICE_MISSING' }])
    expect(groupSeries(missing).volumes).toEqual([])
  })

  it('separates orientations (a three-plane localizer is three volumes)', () => {
    const instances = [
      ...axialStack(3, {}),
      ...[0, 1, 2].map((k) => instance({ position: [k * 4, 0, 0], orientation: [0, 1, 0, 0, 0, -1] })),
    ]
    const series = groupSeries(instances)
    expect(series.volumes.map((v) => v.plane).sort()).toEqual(['axial', 'sagittal'])
  })
})

describe('groupStudies', () => {
  it('groups by study and series, ordered by series number', () => {
    const studies = groupStudies([...axialStack(3, { seriesNumber: 7 }), ...axialStack(3, { seriesNumber: 2 })])
    expect(studies).toHaveLength(1)
    expect(studies[0]!.series.map((s) => s.seriesNumber)).toEqual([2, 7])
  })
})

describe('niftiLayout', () => {
  it('flips rows and converts LPS to RAS for a 2D acquisition (as dcm2niix)', () => {
    const series = groupSeries(axialStack(5, { acquisition: '2D' }))
    const layout = niftiLayout(series.volumes[0]!, series)
    // i: +x LPS (left) = -R; j: rows reversed, -(+y LPS) = +A from the last row; k: +S.
    expect(plain(layout.affine)).toEqual([
      [-2, 0, 0, 10],
      [0, 2, 0, 20 - 6],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ])
    expect(layout.dims).toEqual([3, 4, 5])
    expect(layout.reorientation).toBeUndefined()
  })

  it('reorients a 3D acquisition to the nearest canonical layout', () => {
    const series = groupSeries(axialStack(5, { acquisition: '3D' }))
    const layout = niftiLayout(series.volumes[0]!, series)
    expect(layout.reorientation?.flips).toEqual([true, false, false])
    expect(plain(layout.affine).slice(0, 3).map((row) => row.slice(0, 3))).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 3]])
    expect(niftiLayout(series.volumes[0]!, series, { reorient3d: false }).reorientation).toBeUndefined()
  })
})
