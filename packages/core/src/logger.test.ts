import { describe, expect, it } from 'vitest'
import { jsonLogger, silentLogger } from './logger.js'

describe('jsonLogger', () => {
  it('writes pino-shaped JSON lines at or above its level, with child bindings', () => {
    const lines: string[] = []
    const log = jsonLogger({ level: 'info', write: (line) => lines.push(line) })
    log.debug('hidden')
    log.info('plain')
    log.child({ jobId: 'j1' }).warn({ stage: 's', err: new Error('bad') }, 'with fields')
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(records).toHaveLength(2)
    expect(records[0]).toMatchObject({ level: 30, msg: 'plain' })
    expect(records[1]).toMatchObject({ level: 40, jobId: 'j1', stage: 's', msg: 'with fields', err: { type: 'Error', message: 'bad' } })
    expect(typeof records[1]!.time).toBe('number')
  })

  it('has a silent default', () => {
    expect(silentLogger.child({}).info('nothing')).toBeUndefined()
  })
})
