import { describe, expect, it } from 'vitest'
import { isPacsflowError } from './errors.js'
import { ResourcePool } from './resource-pool.js'

describe('ResourcePool', () => {
  it('grants distinct slot indices and queues beyond capacity in arrival order', async () => {
    const pool = new ResourcePool({ gpu: 2 })
    const a = await pool.acquire({ gpu: 1 })
    const b = await pool.acquire({ gpu: 1 })
    expect([a.slots.gpu, b.slots.gpu]).toEqual([[0], [1]])
    const order: string[] = []
    const big = pool.acquire({ gpu: 2 }).then((lease) => (order.push('big'), lease))
    const small = pool.acquire({ gpu: 1 }).then((lease) => (order.push('small'), lease))
    a.release()
    await new Promise((resolve) => setTimeout(resolve, 5))
    // The big request came first: the small one waits behind it although one slot is free.
    expect(order).toEqual([])
    b.release()
    const bigLease = await big
    expect(order).toEqual(['big'])
    bigLease.release()
    expect((await small).slots.gpu).toEqual([0])
  })

  it('withdraws a waiter when its signal aborts, and lets the next one in', async () => {
    const pool = new ResourcePool({ gpu: 1, cpu: 4 })
    const held = await pool.acquire({ gpu: 1 })
    const controller = new AbortController()
    const waiting = pool.acquire({ gpu: 1, cpu: 1 }, controller.signal)
    const cpuOnly = pool.acquire({ cpu: 1 })
    controller.abort()
    await expect(waiting).rejects.toSatisfy((error) => isPacsflowError(error, 'ABORTED'))
    expect((await cpuOnly).slots.cpu).toEqual([0])
    held.release()
    held.release() // releasing twice is harmless
    expect((await pool.acquire({ gpu: 1 })).slots.gpu).toEqual([0])
  })

  it('checks requests against its capacity', () => {
    const pool = new ResourcePool({ gpu: 1 })
    expect(() => pool.check({ gpu: 2 }, 'stage x')).toThrowError(/needs 2 'gpu' but the runner has 1/)
    expect(() => pool.check({ tpu: 1 }, 'stage x')).toThrowError(/resources: \{ tpu: N \}/)
    expect(() => new ResourcePool({ gpu: 0 })).toThrowError(/positive integer/)
  })
})
