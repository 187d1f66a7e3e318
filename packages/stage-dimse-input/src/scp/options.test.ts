import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dimseInput } from '../dimse-input.js'
import { queryRetrieve } from '../qr/query-retrieve.js'
import { removeDir, tempDir } from '../test-support/dicom-files.js'
import { resolveScpOptions, type StoreScpOptions } from './options.js'

const spool = { dir: '/nowhere', incomingPath: () => '/nowhere/x', commit: () => Promise.reject(new Error('unused')) }
const base: StoreScpOptions = { aet: 'PACSFLOW', port: 11112, spool }
const scratch = tempDir('options')
afterAll(() => removeDir(scratch))

describe('receiver options', () => {
  it('fills in the defaults', () => {
    expect(resolveScpOptions(base)).toMatchObject({
      aet: 'PACSFLOW',
      port: 11112,
      host: '127.0.0.1',
      checkCalledAet: true,
      maxAssociations: 16,
      maxPduLength: 262144,
      timeoutMs: 60_000,
      closeTimeoutMs: 30_000,
      tls: undefined,
      allowedCallingAets: undefined,
      allowedPeers: undefined,
    })
  })

  it.each([
    ['an AE title over 16 characters', { aet: 'A'.repeat(17) }, /AE title/],
    ['an AE title with a backslash', { aet: 'A\\B' }, /AE title/],
    ['a blank AE title', { aet: '   ' }, /AE title/],
    ['no port', { port: undefined }, /port/],
    ['a port out of range', { port: 70000 }, /port/],
    ['an allowed peer that is not an address', { allowedPeers: ['scanner.local'] }, /allowedPeers/],
    ['an allowed calling AE that is not an AE title', { allowedCallingAets: ['x'.repeat(20)] }, /AE title/],
    ['a transfer syntax that is not a UID', { transferSyntaxes: ['jpeg'] }, /transferSyntaxes/],
    ['no transfer syntax', { transferSyntaxes: [] }, /transferSyntaxes/],
    ['a maximum PDU length below 4096', { maxPduLength: 1024 }, /maxPduLength/],
    ['no spool', { spool: undefined }, /spool/],
    ['a TLS key file that does not exist', { tls: { key: '/no/such/key.pem', cert: '/no/such/cert.pem' } }, /tls\.key/],
    ['an onStore that is not a function', { onStore: 'log' }, /onStore/],
  ])('refuses %s with INVALID_OPTIONS', (_what, change, message) => {
    expect(() => resolveScpOptions({ ...base, ...change } as unknown as StoreScpOptions)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(message) }))
  })

  it('reads TLS material from files or takes it as PEM text, and asks for client certificates only when told', () => {
    const key = join(scratch, 'key.pem')
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
    const tls = resolveScpOptions({ ...base, tls: { key, cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }).tls
    expect(tls?.key.toString()).toContain('PRIVATE KEY')
    expect(tls?.cert.toString()).toContain('CERTIFICATE')
    expect(tls).toMatchObject({ requestCert: false, rejectUnauthorized: true })
  })

  it('the source factories check their options at once', () => {
    expect(() => dimseInput({ aet: 'PACSFLOW', port: 104, spool: 42 as unknown as string })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => dimseInput({ aet: '', port: 104, spool: scratch })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => dimseInput({ aet: 'PACSFLOW', port: 104, spool: scratch, quietPeriodMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(dimseInput({ aet: 'PACSFLOW', port: 104, spool: scratch }).name).toBe('dimse-input')
    const pacs = { host: '127.0.0.1', port: 4242, aet: 'ORTHANC' }
    expect(() => queryRetrieve({ pacs, aet: 'PACSFLOW', accessionNumbers: ['A1'], spool: scratch })).toThrow(/receiver/)
    expect(() => queryRetrieve({ pacs, aet: 'PACSFLOW', accessionNumbers: [''], spool: scratch, method: 'get' })).toThrow(/accessionNumbers/)
    expect(() => queryRetrieve({ pacs: { ...pacs, port: 0 }, aet: 'PACSFLOW', accessionNumbers: ['A1'], spool: scratch, method: 'get' })).toThrow(/pacs\.port/)
    expect(queryRetrieve({ pacs, aet: 'PACSFLOW', accessionNumbers: ['A1'], spool: scratch, receiver: { port: 11113 } }).name).toBe('query-retrieve')
  })
})
