// Type tests: the stage composes after a QSM selection and before anything that takes a QsmResult.
import { describe, expectTypeOf, it } from 'vitest'
import { defineStage, pipeline, type PipelineOutput, type Stage } from '@pacsflow/core'
import { qsmDicomiseInput, qsmRoles, selectSeries, type DicomStudy, type QsmInput, type QsmResult } from '@pacsflow/imaging'
import { qsmxt, type QsmxtResult } from './index.js'

const select = defineStage({ name: 'select', run: async (study: DicomStudy) => selectSeries(study, qsmRoles) })
const encode = defineStage({ name: 'encode', run: async (result: QsmResult) => qsmDicomiseInput(result).nifti })

describe('qsmxt stage types', () => {
  it('is a Stage<QsmInput, QsmxtResult> whose output is a QsmResult', () => {
    expectTypeOf(qsmxt({ checkTools: false })).toMatchTypeOf<Stage<QsmInput, QsmxtResult>>()
    expectTypeOf<QsmxtResult>().toMatchTypeOf<QsmResult>()
  })

  it('takes selectSeries(study, qsmRoles) and feeds a QsmResult consumer', () => {
    const flow = pipeline(select).pipe(qsmxt({ checkTools: false })).pipe(encode)
    expectTypeOf<PipelineOutput<typeof flow>>().toEqualTypeOf<string>()
  })

  it('refuses an input it cannot take', () => {
    const text = defineStage({ name: 'text', run: async (n: number) => String(n) })
    // @ts-expect-error a string is not a QsmInput
    pipeline(text).pipe(qsmxt({ checkTools: false }))
  })
})
