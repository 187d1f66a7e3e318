// TLS to a DCMTK storescp with a certificate from a throwaway CA: both transports verify it and deliver.
import { execFileSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { storescu } from './storescu.js'
import { copySeries, removeDir, stageContext, startStorescp, tempDir } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = haveTools('openssl', 'storescp', 'storescu') && dataDir !== undefined

describe.skipIf(!ready)('storescu over TLS', () => {
  let scratch: string
  let files: string[]
  const pki = (name: string): string => join(scratch, name)

  beforeAll(() => {
    scratch = tempDir('storescu-tls')
    files = copySeries(dataDir!, 'dcm_qa_fmap/Siemens_3_gre_field_magph', join(scratch, 'in')).slice(0, 5)
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: scratch, stdio: 'ignore' })
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=pacsflow test CA')
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(pki('san.cnf'), 'subjectAltName=IP:127.0.0.1\n')
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.cnf')
    // A second CA that did not sign the server's certificate.
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=someone else')
  }, 30_000)
  afterAll(() => removeDir(scratch))

  it.each(['dimse', 'dcmtk'] as const)('stores over TLS when the CA vouches for the PACS, refuses when it does not (%s)', async (transport) => {
    const received = tempDir('storescu-tls-in')
    // -ic: the receiver does not ask for our certificate.
    const scp = await startStorescp(received, ['+tls', pki('server.key'), pki('server.pem'), '-ic'])
    const workDir = tempDir('storescu-tls-work')
    try {
      const base = { host: '127.0.0.1', port: scp.port, calledAet: scp.aet, transport, retry: { maxAttempts: 1 }, timeoutMs: 5000 }
      const receipt = await storescu({ ...base, tls: { ca: pki('ca.pem') } }).run({ files }, stageContext(workDir))
      expect(receipt).toMatchObject({ stored: 5, failed: 0, destination: { tls: true } })
      expect(readdirSync(received)).toHaveLength(5)
      const refused = await storescu({ ...base, tls: { ca: pki('other.pem') } })
        .run({ files }, stageContext(join(workDir, 'other')))
        .catch((error: unknown) => error)
      expect(refused).toMatchObject({ code: 'STORE_CONNECTION_FAILED', retryable: false, message: expect.stringMatching(/certificate/i) })
      expect(readdirSync(received)).toHaveLength(5)
    } finally {
      await scp.stop()
      removeDir(received)
      removeDir(workDir)
    }
  }, 60_000)
})
