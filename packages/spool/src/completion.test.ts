import { describe, expect, it } from 'vitest'
import { CompletionTracker, completionTime, resolveCompletion } from './completion.js'

const options = resolveCompletion({ quietPeriodMs: 60_000, maxWaitMs: 600_000, earlyGraceMs: 2_000 })

describe('completionTime', () => {
  it('is the quiet period after the last arrival when counts are unknown', () => {
    expect(completionTime({ firstArrivalMs: 0, lastArrivalMs: 5_000, series: [{ received: 10 }] }, options)).toEqual({ atMs: 65_000, reason: 'quiet' })
  })

  it('completes early when every series announces its count and holds exactly that many', () => {
    const complete = { firstArrivalMs: 0, lastArrivalMs: 5_000, series: [{ received: 3, expected: 3 }, { received: 2, expected: 2 }] }
    expect(completionTime(complete, options)).toEqual({ atMs: 7_000, reason: 'expected' })
    // One series without an announcement, one short, or one with more than announced: the quiet period rules.
    for (const series of [[{ received: 3, expected: 3 }, { received: 2 }], [{ received: 2, expected: 3 }], [{ received: 4, expected: 3 }]]) {
      expect(completionTime({ firstArrivalMs: 0, lastArrivalMs: 5_000, series }, options).reason).toBe('quiet')
    }
    expect(completionTime(complete, resolveCompletion({ ...options, earlyCompletion: false })).reason).toBe('quiet')
  })

  it('hands a study on after the maximum wait even while instances keep coming', () => {
    expect(completionTime({ firstArrivalMs: 0, lastArrivalMs: 590_000, series: [{ received: 1 }] }, options)).toEqual({ atMs: 600_000, reason: 'max-wait' })
  })

  it('checks its options', () => {
    expect(resolveCompletion({})).toEqual({ quietPeriodMs: 60_000, maxWaitMs: 1_800_000, earlyCompletion: true, earlyGraceMs: 2_000, latePolicy: 'new-job' })
    expect(resolveCompletion({ quietPeriodMs: 500 }).earlyGraceMs).toBe(500)
    for (const bad of [{ quietPeriodMs: -1 }, { quietPeriodMs: Number.NaN }, { maxWaitMs: 10, quietPeriodMs: 20 }, { latePolicy: 'later' }, { earlyCompletion: 'yes' }]) {
      expect(() => resolveCompletion(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    }
  })
})

describe('CompletionTracker (fake clock)', () => {
  it('makes a study due a quiet period after its last arrival, and not again once handed on', () => {
    const tracker = new CompletionTracker(options)
    tracker.arrival('1.1', '1.1.1', '1.1.1.1', '1.1.1/1.1.1.1.dcm', 1_000)
    tracker.arrival('1.1', '1.1.1', '1.1.1.2', '1.1.1/1.1.1.2.dcm', 30_000)
    tracker.arrival('2.2', '2.2.1', '2.2.1.1', '2.2.1/2.2.1.1.dcm', 10_000)
    expect(tracker.nextDueMs()).toBe(70_000)
    expect(tracker.due(69_999)).toEqual([])
    expect(tracker.due(90_000)).toEqual([
      { study: '2.2', reason: 'quiet' },
      { study: '1.1', reason: 'quiet' },
    ])
    tracker.handedOn('1.1', ['1.1.1/1.1.1.1.dcm', '1.1.1/1.1.1.2.dcm'])
    expect(tracker.due(1e9).map((d) => d.study)).toEqual(['2.2'])
    // A late event for a file already handed on is not an arrival; a new file is.
    tracker.arrival('1.1', '1.1.1', '1.1.1.2', '1.1.1/1.1.1.2.dcm', 95_000)
    expect(tracker.pendingFiles('1.1')).toBe(0)
    tracker.arrival('1.1', '1.1.1', '1.1.1.3', '1.1.1/1.1.1.3.dcm', 100_000)
    expect(tracker.progress('1.1')).toEqual({ firstArrivalMs: 100_000, lastArrivalMs: 100_000, series: [{ received: 3 }] })
    expect(tracker.due(160_000)).toContainEqual({ study: '1.1', reason: 'quiet' })
  })

  it('completes early once the announced count of every series is in, after the grace', () => {
    const tracker = new CompletionTracker(options)
    expect(tracker.arrival('1.1', '1.1.1', 'a', '1.1.1/a.dcm', 0)).toBe(true)
    expect(tracker.arrival('1.1', '1.1.1', 'b', '1.1.1/b.dcm', 100)).toBe(false)
    tracker.setExpected('1.1', '1.1.1', 2)
    expect(tracker.due(2_099)).toEqual([])
    expect(tracker.due(2_100)).toEqual([{ study: '1.1', reason: 'expected' }])
    // A second series without an announcement holds the study back to the quiet period.
    tracker.arrival('1.1', '1.1.2', 'c', '1.1.2/c.dcm', 200)
    expect(tracker.due(10_000)).toEqual([])
    expect(tracker.due(60_200)).toEqual([{ study: '1.1', reason: 'quiet' }])
  })

  it('defers a study whose hand-on failed, and forgets a settled one', () => {
    const tracker = new CompletionTracker(options)
    tracker.arrival('1.1', '1.1.1', 'a', '1.1.1/a.dcm', 0)
    tracker.defer('1.1', 100_000)
    expect(tracker.due(90_000)).toEqual([])
    expect(tracker.nextDueMs()).toBe(100_000)
    tracker.discard('1.1', ['1.1.1/a.dcm'])
    expect(tracker.nextDueMs()).toBeUndefined()
    tracker.arrival('1.1', '1.1.1', 'b', '1.1.1/b.dcm', 0)
    tracker.forget('1.1')
    expect(tracker.due(1e9)).toEqual([])
  })
})
