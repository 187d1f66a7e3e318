import type { RunnerEvent } from '@pacsflow/core'
import { describe, expect, it } from 'vitest'
import { progressReporter } from './progress.js'

const job = 'abcdef0123456789'
const events: RunnerEvent[] = [
  { type: 'stage:start', at: 1000, jobId: job, stage: 'qsm', index: 0, attempt: 1 },
  { type: 'stage:progress', at: 1100, jobId: job, stage: 'qsm', index: 0, fraction: 0.1, note: 'mask' },
  { type: 'stage:progress', at: 1200, jobId: job, stage: 'qsm', index: 0, fraction: 0.3, note: 'unwrap' },
  { type: 'stage:progress', at: 1300, jobId: job, stage: 'qsm', index: 0, fraction: 0.35 },
  { type: 'stage:progress', at: 1400, jobId: job, stage: 'qsm', index: 0, fraction: 0.8, note: 'rts 40/100' },
  { type: 'stage:end', at: 3500, jobId: job, stage: 'qsm', index: 0, attempt: 1, durationMs: 2500, outcome: 'ok' },
  { type: 'stage:start', at: 3500, jobId: job, stage: 'dicomise', index: 1, attempt: 1 },
  {
    type: 'stage:end', at: 3600, jobId: job, stage: 'dicomise', index: 1, attempt: 1, durationMs: 100, outcome: 'failed',
    error: { name: 'PacsflowError', code: 'DICOMISE_INPUT', message: 'bad input', retryable: false },
  },
]

describe('progressReporter', () => {
  it('prints plain lines when not on a terminal: start, each quarter once, end with the time and error', () => {
    const out: string[] = []
    const reporter = progressReporter({ write: (text) => out.push(text), isTty: false })
    for (const event of events) reporter.handle(event)
    reporter.close()
    expect(out.join('')).toBe(
      [
        '[abcdef01] qsm: started',
        '[abcdef01] qsm: 30% unwrap',
        '[abcdef01] qsm: 80% rts 40/100',
        '[abcdef01] qsm: done in 2.5 s',
        '[abcdef01] dicomise: started',
        '[abcdef01] dicomise: failed in 0.1 s (DICOMISE_INPUT: bad input)',
        '',
      ].join('\n'),
    )
    expect(out.join('')).not.toContain('\x1b')
  })

  it('redraws bars in place on a terminal, at most every redrawMs', () => {
    const out: string[] = []
    let clock = 0
    const reporter = progressReporter({ write: (text) => out.push(text), isTty: true, redrawMs: 100, now: () => clock })
    reporter.handle(events[0]!)
    clock = 50
    reporter.handle(events[1]!) // within 100 ms of the last draw: skipped
    clock = 200
    reporter.handle(events[2]!)
    expect(out).toHaveLength(2)
    expect(out[1]).toMatch(/^\x1b\[1F\x1b\[2Kqsm\s+\[#{7}\.{17}\]\s+30%/)
    expect(out[1]).toContain('unwrap')
    clock = 3500
    reporter.handle(events[5]!)
    reporter.handle(events[6]!)
    const last = out.at(-1)!
    expect(last.startsWith('\x1b[1F')).toBe(true) // over the one line drawn before
    expect(last).toMatch(/qsm\s+\[#{24}\]\s+done\s+2\.5 s/)
    expect(last).toMatch(/dicomise\s+\[\.{24}\]\s+0%/)
  })
})
