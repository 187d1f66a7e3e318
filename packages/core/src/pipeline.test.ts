import { describe, expect, it } from 'vitest'
import { isPacsflowError } from './errors.js'
import { pipeline } from './pipeline.js'
import { defineSource, defineStage } from './stage.js'

const inc = defineStage({ name: 'inc', run: async (n: number) => n + 1 })
const square = defineStage({ name: 'square', run: async (n: number) => n * n })

describe('pipeline', () => {
  it('keeps stages in order and is immutable', () => {
    const base = pipeline(inc)
    const a = base.pipe(square)
    const b = base.pipe({ ...inc, name: 'inc-2' })
    expect(base.stages.map((s) => s.name)).toEqual(['inc'])
    expect(a.stages.map((s) => s.name)).toEqual(['inc', 'square'])
    expect(b.stages.map((s) => s.name)).toEqual(['inc', 'inc-2'])
    expect(Object.isFrozen(a.stages)).toBe(true)
  })

  it('refuses a second stage with the same name, saying how to fix it', () => {
    expect(() => pipeline(inc).pipe(inc)).toThrowError(/already has a stage named 'inc'/)
    try {
      pipeline(inc).pipe(inc)
    } catch (error) {
      expect(isPacsflowError(error, 'INVALID_OPTIONS')).toBe(true)
    }
  })

  it('refuses names that cannot name a folder, and things that are not stages', () => {
    expect(() => pipeline({ name: '../x', run: async () => 1 })).toThrowError(/name "..\/x" is invalid/)
    expect(() => pipeline({ name: '', run: async () => 1 })).toThrowError(/invalid/)
    // @ts-expect-error: deliberately not a stage
    expect(() => pipeline(inc).pipe({ name: 'x' })).toThrowError(/takes a stage/)
  })
})

describe('defineStage / defineSource', () => {
  it('returns the same object after checking it', () => {
    const stage = { name: 'ok', run: async () => 1 }
    expect(defineStage(stage)).toBe(stage)
    expect(() => defineStage({ name: 'gpu', resources: { gpu: 0 }, run: async () => 1 })).toThrowError(/positive integer/)
    expect(() => defineStage({ name: 't', timeoutMs: 0, run: async () => 1 })).toThrowError(/timeoutMs/)
    expect(() => defineSource({ name: 'a b', open: async function* () {} })).toThrowError(/source name/)
  })
})
