import { describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { resolveOptions, type DicomiseOptions } from './options.js'
import { profiles } from './profiles.js'
import { dicomise } from './stage.js'

function rejection(options: unknown): string {
  try {
    resolveOptions(options as DicomiseOptions)
  } catch (error) {
    if (isPacsflowError(error, 'INVALID_OPTIONS')) return error.message
    throw error
  }
  throw new Error('accepted')
}

describe('options', () => {
  it('default to QSM on the reference grid for PACS, signed, trilinear, marked not for diagnostic use', () => {
    expect(resolveOptions()).toMatchObject({
      quantity: { name: 'QSM', units: 'ppm', step: 0.001 },
      modality: 'MR',
      grid: 'reference',
      interpolation: 'trilinear',
      pixel: 'signed',
      fill: 0,
      profile: { name: 'pacs' },
      notForDiagnosticUse: true,
    })
    expect(resolveOptions({ quantity: 'labels' }).interpolation).toBe('nearest')
  })

  it('fold in the profile rules', () => {
    expect(resolveOptions({ profile: 'stealthstation' }).pixel).toBe('unsigned')
    expect(resolveOptions({ profile: 'brainlab' }).profile.effects).toMatchObject({ squarePixels: true, maxSlices: 399, requireFrameOfReference: true })
    for (const profile of Object.values(profiles)) {
      for (const rule of profile.rules) expect(rule.source.length, `${profile.name}/${rule.id}`).toBeGreaterThan(20)
    }
  })

  it('are refused at once, naming what is wrong', () => {
    expect(rejection({ profile: 'osirix' })).toMatch(/unknown profile 'osirix'/)
    expect(rejection({ profile: 'stealthstation', encoding: { pixel: 'signed' } })).toMatch(/needs unsigned/)
    expect(rejection({ quantity: 'magic' })).toMatch(/unknown quantity/)
    expect(rejection({ quantity: { name: 'qsm map' } })).toMatch(/quantity.name/)
    expect(rejection({ seriesDescription: 'a\\b' })).toMatch(/seriesDescription/)
    expect(rejection({ seriesDescription: 'x'.repeat(65) })).toMatch(/seriesDescription/)
    expect(rejection({ seriesNumber: 1.5 })).toMatch(/seriesNumber/)
    expect(rejection({ encoding: { slope: 0 } })).toMatch(/slope/)
    expect(rejection({ encoding: { clamp: [1, -1] } })).toMatch(/clamp/)
    expect(rejection({ encoding: { window: { center: 0, width: 0 } } })).toMatch(/window/)
    expect(rejection({ grid: 'mni' })).toMatch(/grid/)
    expect(rejection({ modality: 'PT' })).toMatch(/modality/)
    expect(rejection({ interpolation: 'cubic' })).toMatch(/interpolation/)
    expect(() => dicomise({ profile: 'nope' as never })).toThrow(/unknown profile/)
    expect(() => dicomise({ name: 'bad name!' })).toThrow(/name/)
  })
})
