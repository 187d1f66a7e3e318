import { describe, expect, it } from 'vitest'
import { groupStudy } from '../series/group.js'
import { axialStack, instance } from '../test-support/instances.js'
import { silentLogger } from '@pacsflow/core'
import { qsmRoles, selectSeries } from './select.js'
import { selectStage } from './stage.js'

const echoes = (n: number, spec: Parameters<typeof axialStack>[1]) =>
  Array.from({ length: n }, (_, e) => axialStack(4, { ...spec, echo: e + 1 })).flat()

const sagittal3d = (seriesNumber: number, description: string, slices = 40) =>
  Array.from({ length: slices }, (_, k) =>
    instance({ seriesNumber, description, position: [k, 0, 0], orientation: [0, 1, 0, 0, 0, -1], acquisition: '3D', spacing: [1, 1] }),
  )

/** A typical QSM exam: multi-echo GRE magnitude and phase, a 2-echo field map with phase difference, T1, FGATIR. */
function exam(options: { t1?: boolean; fgatir?: boolean } = {}) {
  return [
    ...echoes(5, { seriesNumber: 10, description: 'qsm_gre_me', component: 'magnitude' }),
    ...echoes(5, { seriesNumber: 11, description: 'qsm_gre_me', component: 'phase' }),
    ...echoes(2, { seriesNumber: 20, description: 'gre_field_mapping', component: 'magnitude', acquisition: '2D' }),
    ...axialStack(4, { seriesNumber: 21, description: 'gre_field_mapping', component: 'phase', echo: 2 }),
    ...(options.t1 === false ? [] : sagittal3d(30, 't1_mprage_sag')),
    ...(options.fgatir === true ? sagittal3d(31, 'FGATIR_sag') : []),
  ]
}

describe('selectSeries with the QSM roles', () => {
  it('finds magnitude and phase by ImageType and echo structure, and the T1 by name', () => {
    const selection = selectSeries(groupStudy(exam()), qsmRoles)
    expect(selection.magnitude.series.seriesNumber).toBe(10)
    expect(selection.magnitude.volumes.map((v) => v.echoNumber)).toEqual([1, 2, 3, 4, 5])
    expect(selection.phase.series.seriesNumber).toBe(11)
    expect(selection.phase.volumes.every((v) => v.complexComponent === 'phase')).toBe(true)
    expect(selection.t1.series.seriesNumber).toBe(30)
    expect(selection.fgatir).toBeUndefined()
  })

  it('takes the FGATIR when present, and never as the T1', () => {
    const selection = selectSeries(groupStudy(exam({ fgatir: true })), qsmRoles)
    expect(selection.fgatir?.series.seriesNumber).toBe(31)
    expect(selection.t1.series.seriesNumber).toBe(30)
  })

  it('says which role is missing and lists every candidate with why it was rejected', () => {
    let error: unknown
    try {
      selectSeries(groupStudy(exam({ t1: false })), qsmRoles)
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'SELECTION_MISSING', details: { role: 't1' } })
    const candidates = (error as { details: { candidates: { seriesNumber: number; rejected: string }[] } }).details.candidates
    expect(candidates.find((c) => c.seriesNumber === 10)?.rejected).toBe('description does not match')
  })

  it('pairs magnitude with a phase of the same echoes: a phase difference does not qualify', () => {
    const only = [
      ...echoes(2, { seriesNumber: 20, description: 'gre_field_mapping', component: 'magnitude' }),
      ...axialStack(4, { seriesNumber: 21, description: 'gre_field_mapping', component: 'phase', echo: 2 }),
    ]
    expect(() => selectSeries(groupStudy(only), { magnitude: qsmRoles.magnitude, phase: qsmRoles.phase })).toThrowError(
      expect.objectContaining({ code: 'SELECTION_MISSING', details: expect.objectContaining({ role: 'phase' }) }),
    )
  })

  it('uses tie-breaks, and without them reports an ambiguity instead of guessing', () => {
    const twoT1 = [...sagittal3d(30, 't1_mprage'), ...sagittal3d(32, 't1_mprage')]
    const study = groupStudy(twoT1)
    expect(selectSeries(study, { t1: qsmRoles.t1 }).t1.series.seriesNumber).toBe(32)
    expect(() => selectSeries(study, { t1: { ...qsmRoles.t1, tieBreak: [] } })).toThrowError(
      expect.objectContaining({ code: 'SELECTION_AMBIGUOUS', message: expect.stringMatching(/2 series fit the role 't1'/) }),
    )
  })

  it('rejects role definitions that cannot work', () => {
    const study = groupStudy(exam())
    expect(() => selectSeries(study, { a: { matches: 'b' }, b: { matches: 'a' } })).toThrowError(/circle/)
    expect(() => selectSeries(study, { a: { matches: 'nope' } })).toThrowError(/unknown role/)
  })
})

describe('selectStage', () => {
  const context = { jobId: 'j1', signal: new AbortController().signal, workDir: '/tmp', log: silentLogger, progress: () => {}, slots: {} }

  it('is a pipeline stage returning the selection, and fails with the coded error', async () => {
    const stage = selectStage(qsmRoles)
    expect(stage.name).toBe('select')
    const selection = await stage.run(groupStudy(exam()), context as never)
    expect(selection.magnitude.series.seriesNumber).toBe(10)
    expect(selection.t1.series.seriesNumber).toBe(30)
    await expect(stage.run(groupStudy(exam({ t1: false })), context as never)).rejects.toMatchObject({ code: 'SELECTION_MISSING' })
    expect(selectStage(qsmRoles, { name: 'pick' }).name).toBe('pick')
  })
})
