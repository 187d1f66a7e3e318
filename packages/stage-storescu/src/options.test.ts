// The factory refuses bad options at once, with INVALID_OPTIONS, and fills in the defaults.
import { describe, expect, it } from 'vitest'
import { resolveOptions } from './options.js'
import { storescu } from './storescu.js'
import type { StorescuOptions } from './types.js'

const base: StorescuOptions = { host: 'pacs.local', port: 104, calledAet: 'PACS' }

describe('storescu options', () => {
  it('has defaults: dimse, one association, PACSFLOW, 6 attempts, 60 s', () => {
    expect(resolveOptions(base)).toMatchObject({
      transport: 'dimse',
      maxAssociations: 1,
      callingAet: 'PACSFLOW',
      verify: false,
      timeoutMs: 60_000,
      name: 'storescu',
      retry: { maxAttempts: 6, initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitter: true },
    })
    expect(storescu(base).name).toBe('storescu')
    expect(storescu({ ...base, name: 'pacs-2' }).name).toBe('pacs-2')
  })

  it.each([
    ['no host', { host: '' }],
    ['port 0', { port: 0 }],
    ['port 70000', { port: 70000 }],
    ['a 17-character AE title', { calledAet: 'ABCDEFGHIJKLMNOPQ' }],
    ['a backslash in an AE title', { callingAet: 'A\\B' }],
    ['a blank AE title', { calledAet: '   ' }],
    ['an unknown transport', { transport: 'http' }],
    ['17 associations', { maxAssociations: 17 }],
    ['a zero timeout', { timeoutMs: 0 }],
    ['zero attempts', { retry: { maxAttempts: 0 } }],
    ['a missing CA file', { tls: { ca: '/nonexistent/ca.pem' } }],
    ['a certificate without its key', { tls: { cert: import.meta.filename } }],
    ["dcmtk TLS without a CA", { transport: 'dcmtk', tls: true }],
    ['a bad stage name', { name: '../x' }],
  ])('refuses %s', (_what, change) => {
    expect(() => storescu({ ...base, ...change } as StorescuOptions)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })
})
