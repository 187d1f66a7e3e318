import { describe, expect, it } from 'vitest'
import {
  deserializeError,
  isAbortError,
  isPacsflowError,
  PacsflowError,
  serializeError,
  toPacsflowError,
} from './errors.js'

describe('PacsflowError', () => {
  it('carries a code, a cause and the runner context', () => {
    const cause = new Error('disk full')
    const error = new PacsflowError('STAGE_FAILED', 'stage failed', {
      cause,
      stage: 'dicomise',
      jobId: 'job-1',
      stageCode: 'UNKNOWN',
      retryable: true,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('PacsflowError')
    expect(error.cause).toBe(cause)
    expect(isPacsflowError(error, 'STAGE_FAILED')).toBe(true)
    expect(isPacsflowError(error, 'ABORTED')).toBe(false)
    expect(isPacsflowError(cause)).toBe(false)
  })

  it('wraps unknown throws and recognises aborts', () => {
    expect(toPacsflowError('boom').code).toBe('UNKNOWN')
    expect(toPacsflowError('boom').message).toBe('boom')
    expect(toPacsflowError({ a: 1 }).message).toBe('{"a":1}')
    const abort = AbortSignal.abort().reason as Error
    expect(isAbortError(abort)).toBe(true)
    expect(toPacsflowError(abort).code).toBe('ABORTED')
    const original = new PacsflowError('JOB_NOT_FOUND', 'x')
    expect(toPacsflowError(original)).toBe(original)
  })

  it('round-trips through JSON with its causes', () => {
    const error = new PacsflowError('STAGE_FAILED', 'outer', {
      stage: 's',
      jobId: 'j',
      stageCode: 'STAGE_TIMEOUT',
      details: { n: 1 },
      cause: new PacsflowError('STAGE_TIMEOUT', 'inner', { retryable: true, cause: new TypeError('root') }),
    })
    const json = JSON.parse(JSON.stringify(error)) as ReturnType<typeof serializeError>
    expect(json).toMatchObject({
      code: 'STAGE_FAILED',
      message: 'outer',
      stage: 's',
      jobId: 'j',
      stageCode: 'STAGE_TIMEOUT',
      details: { n: 1 },
      cause: { code: 'STAGE_TIMEOUT', retryable: true, cause: { name: 'TypeError', code: 'UNKNOWN', message: 'root' } },
    })
    const back = deserializeError(json)
    expect(back.code).toBe('STAGE_FAILED')
    expect(back.stageCode).toBe('STAGE_TIMEOUT')
    expect(back.stack).toBe(error.stack)
    expect((back.cause as PacsflowError).code).toBe('STAGE_TIMEOUT')
  })
})
