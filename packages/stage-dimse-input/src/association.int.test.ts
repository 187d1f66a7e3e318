// Who may associate, checked with DCMTK: called and calling AE titles, peer addresses, the association limit, and TLS with client certificates.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '@pacsflow/core'
import { createSpool } from '@pacsflow/spool'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import { startStoreScp, type AssociationInfo, type StoreScp, type StoreScpOptions } from './index.js'
import { removeDir, run, spoolInstances, storescu, tempDir } from './test-support/dicom-files.js'

const dataDir = testDataDir()
const ready = haveTools('storescu', 'echoscu', 'openssl') && dataDir !== undefined

describe.skipIf(!ready)('association checks', () => {
  let scratch: string
  let files: string[]
  let count = 0

  beforeAll(() => {
    scratch = tempDir('association')
    files = copyTestSeries('dcm_qa_fmap/Siemens_3_gre_field_magph', join(scratch, 'in'), dataDir).slice(0, 3)
  })
  afterAll(() => removeDir(scratch))

  async function receiver(options: Partial<StoreScpOptions> = {}): Promise<{ scp: StoreScp; dir: string }> {
    const dir = join(scratch, `spool-${count++}`)
    const scp = await startStoreScp({ aet: 'PACSFLOW', port: 0, spool: await createSpool({ dir }), ...options })
    return { scp, dir }
  }

  it.each([
    { why: 'a called AE title that is not ours', options: {}, args: ['-aet', 'SCANNER', '-aec', 'SOMEONE'], reason: /Called AE Title Not Recognized/i },
    { why: 'a calling AE title not in allowedCallingAets', options: { allowedCallingAets: ['SCANNER'] }, args: ['-aet', 'INTRUDER', '-aec', 'PACSFLOW'], reason: /Calling AE Title Not Recognized/i },
    { why: 'a peer address not in allowedPeers', options: { allowedPeers: ['10.1.2.3'] }, args: ['-aet', 'SCANNER', '-aec', 'PACSFLOW'], reason: /No Reason/i },
  ])('rejects $why (A-ASSOCIATE-RJ, permanent), storing nothing', async ({ options, args, reason }) => {
    const { scp, dir } = await receiver(options)
    try {
      const result = await storescu(['-v', ...args, '127.0.0.1', String(scp.port), ...files])
      expect(result.code).not.toBe(0)
      expect(result.output).toMatch(/Association Rejected/)
      expect(result.output).toMatch(/Result: Rejected Permanent/)
      expect(result.output).toMatch(reason)
      expect(spoolInstances(dir)).toEqual([])
      expect(scp.stats()).toMatchObject({ associationsAccepted: 0, associationsRejected: 1, received: 0 })
    } finally {
      await scp.close()
    }
  })

  it('accepts an allowed calling AE from an allowed peer, and tells onAssociation who it is', async () => {
    const seen: AssociationInfo[] = []
    const { scp, dir } = await receiver({ allowedCallingAets: ['SCANNER'], allowedPeers: ['127.0.0.1'], onAssociation: (info) => void seen.push(info) })
    try {
      const result = await storescu(['-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...files])
      expect(result.code, result.output).toBe(0)
      expect(spoolInstances(dir)).toHaveLength(3)
      expect(seen).toMatchObject([{ callingAet: 'SCANNER', calledAet: 'PACSFLOW', peerAddress: '127.0.0.1', tls: false }])
    } finally {
      await scp.close()
    }
  })

  it('rejects an association beyond maxAssociations as transient (local limit exceeded)', async () => {
    const { scp } = await receiver({ maxAssociations: 1 })
    // One association held open by a long run of C-ECHOs, killed once the second one was refused.
    const holder = spawn('echoscu', ['--repeat', '100000', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' })
    try {
      for (let waited = 0; scp.stats().activeAssociations < 1 && waited < 5000; waited += 20) await sleep(20)
      expect(scp.stats().activeAssociations).toBe(1)
      const second = await run('echoscu', ['-v', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port)]).catch((error: { stdout: string; stderr: string }) => error)
      expect(`${second.stdout}${second.stderr}`).toMatch(/Result: Rejected Transient/)
      expect(`${second.stdout}${second.stderr}`).toMatch(/Local Limit Exceeded/i)
      expect(scp.stats()).toMatchObject({ associationsAccepted: 1, associationsRejected: 1 })
    } finally {
      holder.kill('SIGKILL')
      await scp.close()
    }
  }, 30_000)

  describe('TLS', () => {
    const pki = (name: string): string => join(scratch, name)

    beforeAll(async () => {
      const ssl = async (...args: string[]): Promise<void> => void (await run('openssl', args, { cwd: scratch }))
      await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=pacsflow test CA')
      await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.pem', '-days', '1', '-subj', '/CN=rogue CA')
      writeFileSync(pki('san.cnf'), 'subjectAltName=IP:127.0.0.1\n')
      for (const [name, ca, subject] of [['server', 'ca', '/CN=127.0.0.1'], ['client', 'ca', '/CN=scanner'], ['rogue', 'rogue-ca', '/CN=rogue']] as const) {
        await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject)
        await ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', 'san.cnf')
      }
    }, 60_000)

    it('stores over TLS from a client whose certificate our CA signed, and refuses one the CA did not sign', async () => {
      const seen: AssociationInfo[] = []
      const { scp, dir } = await receiver({
        tls: { key: pki('server.key'), cert: pki('server.pem'), ca: pki('ca.pem'), requestCert: true },
        onAssociation: (info) => void seen.push(info),
      })
      try {
        const ok = await storescu(['+tls', pki('client.key'), pki('client.pem'), '+cf', pki('ca.pem'), '-aet', 'SCANNER', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...files])
        expect(ok.code, ok.output).toBe(0)
        expect(spoolInstances(dir)).toHaveLength(3)
        expect(seen).toMatchObject([{ callingAet: 'SCANNER', tls: true, peerCertificateAuthorized: true, peerCertificateSubject: 'scanner' }])
        const rogue = await storescu(['+tls', pki('rogue.key'), pki('rogue.pem'), '+cf', pki('ca.pem'), '-aet', 'ROGUE', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...files])
        expect(rogue.code).not.toBe(0)
        const plain = await storescu(['-aet', 'PLAIN', '-aec', 'PACSFLOW', '127.0.0.1', String(scp.port), ...files])
        expect(plain.code).not.toBe(0)
        expect(spoolInstances(dir)).toHaveLength(3)
        expect(scp.stats()).toMatchObject({ associationsAccepted: 1, received: 3 })
      } finally {
        await scp.close()
      }
    }, 60_000)
  })
})
