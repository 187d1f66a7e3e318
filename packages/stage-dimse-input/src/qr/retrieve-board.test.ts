import { describe, expect, it } from 'vitest'
import { PacsflowError, silentLogger, type Delivery } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { RetrieveBoard } from './retrieve-board.js'

const counts = { completed: 3, failed: 0, warning: 0, status: 0 }

/** A delivery of `study` with `instances` instances that records how it was settled. */
function delivery(study: string, generation: number, instances: number, settled: string[]): Delivery<DicomStudy> {
  const id = `${study}.g${generation}`
  const value = { studyInstanceUid: study, series: [{ instances: Array.from({ length: instances }, () => ({})) }] } as unknown as DicomStudy
  return {
    id,
    value,
    ack: async () => void settled.push(`ack ${id}`),
    reject: async (error) => void settled.push(`reject ${id} ${(error as PacsflowError).code}`),
  }
}

function arrive(board: RetrieveBoard, study: string, count: number): void {
  for (let k = 0; k < count; k++) board.arrived(study, `${study}.${k}`)
}

describe('RetrieveBoard', () => {
  it('holds a study until its retrieve finished, then hands it on once', () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    const settled: string[] = []
    board.plan(['1.1'])
    arrive(board, '1.1', 3)
    board.offer(delivery('1.1', 1, 3, settled))
    expect(board.take()).toEqual([])
    board.retrieved('1.1', counts)
    expect(board.take().map((d) => d.id)).toEqual(['1.1.g1'])
    expect(board.finished).toBe(true)
    expect(board.outcome('1.1')).toEqual({ counts })
  })

  it('is not finished while a released study waits to be taken (the source must yield it before it ends)', () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    const settled: string[] = []
    board.plan(['1.1', '2.2'])
    arrive(board, '1.1', 3)
    board.offer(delivery('1.1', 1, 3, settled))
    board.retrieved('1.1', counts)
    expect(board.take().map((d) => d.id)).toEqual(['1.1.g1'])
    // While the source is suspended at its yield of 1.1, study 2.2 completes.
    arrive(board, '2.2', 3)
    board.retrieved('2.2', counts)
    board.offer(delivery('2.2', 1, 3, settled))
    expect(board.finished).toBe(false)
    expect(board.take().map((d) => d.id)).toEqual(['2.2.g1'])
    expect(board.finished).toBe(true)
  })

  it('a delivery made before everything arrived is superseded by the next generation (acknowledged: the next holds it all)', async () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    const settled: string[] = []
    board.plan(['1.1'])
    arrive(board, '1.1', 2)
    board.offer(delivery('1.1', 1, 2, settled))
    arrive(board, '1.1', 3)
    board.retrieved('1.1', counts)
    expect(board.take()).toEqual([])
    board.offer(delivery('1.1', 2, 3, settled))
    expect(board.take().map((d) => d.id)).toEqual(['1.1.g2'])
    await Promise.resolve()
    expect(settled).toEqual(['ack 1.1.g1'])
  })

  it('hands a short delivery on after the wait when no newer generation comes (the rest was unreadable)', async () => {
    const board = new RetrieveBoard(silentLogger, 30)
    board.plan(['1.1'])
    arrive(board, '1.1', 3)
    board.retrieved('1.1', counts)
    board.offer(delivery('1.1', 1, 2, []))
    expect(board.take()).toEqual([])
    // As the source loops: take, wait for a change or the deadline, take again.
    const started = Date.now()
    let ready = board.take()
    for (let round = 0; ready.length === 0 && round < 10; round++) {
      await board.changed(new AbortController().signal)
      ready = board.take()
    }
    expect(ready.map((d) => d.id)).toEqual(['1.1.g1'])
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
  })

  it('rejects the partial study of a failed retrieve, and does not wait for one that brought nothing', async () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    const settled: string[] = []
    board.plan(['1.1', '2.2'])
    arrive(board, '1.1', 1)
    board.failed('1.1', new PacsflowError('QR_RETRIEVE_FAILED', 'sub-operations failed'))
    board.failed('2.2', new PacsflowError('QR_CONNECTION_FAILED', 'down'))
    expect(board.finished).toBe(false)
    board.offer(delivery('1.1', 1, 1, settled))
    await Promise.resolve()
    expect(settled).toEqual(['reject 1.1.g1 QR_RETRIEVE_FAILED'])
    expect(board.take()).toEqual([])
    expect(board.finished).toBe(true)
    expect(board.outcome('2.2').error).toMatchObject({ code: 'QR_CONNECTION_FAILED' })
  })

  it('hands on deliveries of studies this run does not retrieve, once the plan is known', () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    board.offer(delivery('9.9', 1, 5, []))
    expect(board.take()).toEqual([])
    board.plan(['1.1'])
    expect(board.take().map((d) => d.id)).toEqual(['9.9.g1'])
  })

  it('wakes a waiter on a change, and does not lose a change made while nobody waited', async () => {
    const board = new RetrieveBoard(silentLogger, 1000)
    board.plan([])
    board.notify()
    await board.changed(new AbortController().signal)
    const waiting = board.changed(new AbortController().signal)
    board.notify()
    await waiting
    const controller = new AbortController()
    const aborted = board.changed(controller.signal)
    controller.abort()
    await aborted
  })
})
