// Type tests: composition is checked at compile time (run by `tsc -b` and vitest's typecheck).
import pino from 'pino'
import { describe, expectTypeOf, it } from 'vitest'
import { fanOut } from './fan-out.js'
import type { Logger } from './logger.js'
import { pipeline, type Pipeline, type PipelineInput, type PipelineOutput } from './pipeline.js'
import { createRunner } from './runner.js'
import { memoryJobStore } from './job-store.js'
import { defineSource, defineStage, type Stage } from './stage.js'

interface Series { readonly seriesUid: string; readonly files: readonly string[] }
interface Volume { readonly path: string }

const toNumber = defineStage({ name: 'to-number', run: async (text: string) => Number(text) })
const double = defineStage({ name: 'double', run: async (n: number) => n * 2 })
const describeNumber = defineStage({ name: 'describe', run: async (n: number) => ({ label: `#${n}` }) })
const convert = defineStage({ name: 'convert', run: async (s: Series): Promise<Volume> => ({ path: s.seriesUid }) })
const anything = defineStage({ name: 'log-anything', run: async (value: unknown) => value })

describe('pipeline composition types', () => {
  it('infers stage types from defineStage', () => {
    expectTypeOf(toNumber).toEqualTypeOf<Stage<string, number>>()
  })

  it('carries the input of the first stage and the output of the last', () => {
    const flow = pipeline(toNumber).pipe(double).pipe(describeNumber)
    expectTypeOf(flow).toEqualTypeOf<Pipeline<string, { label: string }>>()
    expectTypeOf<PipelineInput<typeof flow>>().toEqualTypeOf<string>()
    expectTypeOf<PipelineOutput<typeof flow>>().toEqualTypeOf<{ label: string }>()
  })

  it('rejects a stage whose input does not accept the previous output', () => {
    // @ts-expect-error: `double` takes a number, `describe` returns an object
    pipeline(describeNumber).pipe(double)
    // @ts-expect-error: a Series is not a string
    pipeline(toNumber).pipe(convert)
    // @ts-expect-error: a Volume is not a Series
    pipeline(convert).pipe(convert)
  })

  it('accepts a stage whose input is wider than the previous output', () => {
    const flow = pipeline(toNumber).pipe(anything)
    expectTypeOf(flow).toEqualTypeOf<Pipeline<string, unknown>>()
  })

  it('types fanOut as the intersection of inputs and the record of outputs', () => {
    const sinks = fanOut({ doubled: double, described: describeNumber })
    expectTypeOf(sinks).toEqualTypeOf<Stage<number, { doubled: number; described: { label: string } }>>()
    const flow = pipeline(toNumber).pipe(sinks)
    expectTypeOf<PipelineOutput<typeof flow>>().toEqualTypeOf<{ doubled: number; described: { label: string } }>()
    // @ts-expect-error: the branches take numbers, `convert` returns a Volume
    pipeline(convert).pipe(sinks)
  })

  it('keeps a branch input that is a union whole (a sink taking a series or files)', () => {
    const sink = defineStage({ name: 'sink', run: async (input: Series | { files: readonly string[] }) => input })
    const copy = defineStage({ name: 'copy', run: async (input: Series | { files: readonly string[] }) => input })
    const both = fanOut({ sink, copy })
    // Either member of the union may flow in (an intersection of the members would accept neither).
    pipeline(defineStage({ name: 'make', run: async (): Promise<Series> => ({ seriesUid: '1', files: [] }) })).pipe(both)
    pipeline(defineStage({ name: 'list', run: async () => ({ files: ['a.dcm'] as readonly string[] }) })).pipe(both)
    const mixed = fanOut({ sink, numbers: double })
    // @ts-expect-error: no value is both a number and a series-or-files
    pipeline(toNumber).pipe(mixed)
  })

  it('checks that the source yields what the pipeline takes', () => {
    const numbers = defineSource({
      name: 'numbers',
      open: async function* () {
        yield { id: '1', value: 1, ack: async () => {}, reject: async () => {} }
      },
    })
    createRunner({ pipeline: pipeline(double), source: numbers, store: memoryJobStore() })
    // @ts-expect-error: the pipeline takes strings, the source yields numbers
    createRunner({ pipeline: pipeline(toNumber), source: numbers, store: memoryJobStore() })
  })

  it('types run() by the pipeline', () => {
    const runner = createRunner({ pipeline: pipeline(toNumber).pipe(describeNumber), store: memoryJobStore() })
    expectTypeOf(runner.run).parameter(0).toEqualTypeOf<string>()
    expectTypeOf(runner.run('1')).resolves.toEqualTypeOf<{ label: string }>()
  })

  it('narrows events by type', () => {
    const runner = createRunner({ pipeline: pipeline(double), store: memoryJobStore() })
    runner.on('stage:end', (event) => {
      expectTypeOf(event.durationMs).toEqualTypeOf<number>()
      expectTypeOf(event.outcome).toEqualTypeOf<'ok' | 'retry' | 'failed' | 'aborted'>()
    })
  })

  it('accepts a pino logger as a Logger', () => {
    expectTypeOf(pino({ enabled: false })).toExtend<Logger>()
  })
})
