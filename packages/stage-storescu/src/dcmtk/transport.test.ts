// The dcmtk transport's command line, and what happens when the executable is not there.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testDataDir } from '@pacsflow/testkit'
import { storescu } from '../storescu.js'
import { removeDir, stageContext, tempDir } from '../test-support/fixtures.js'
import { storescuArguments } from './transport.js'

describe('dcmtk transport', () => {
  it('asks storescu for its debug log, no halt, only the contexts needed, our AE titles and time limits, TLS files', () => {
    const args = storescuArguments(
      { executable: 'storescu', host: 'pacs', port: 104, callingAet: 'US', calledAet: 'THEM', timeoutMs: 2500, tls: { ca: '/ca.pem', rejectUnauthorized: true } },
      ['/a.dcm', '/b.dcm'],
    )
    expect(args).toEqual(['--debug', '--no-halt', '--required', '-aet', 'US', '-aec', 'THEM', '-to', '3', '-ta', '3', '-td', '3', '+tla', '+cf', '/ca.pem', '-rc', 'pacs', '104', '/a.dcm', '/b.dcm'])
  })

  const dataDir = testDataDir()
  it.skipIf(dataDir === undefined)('a missing executable fails STORE_TOOL_FAILED, not retryable, naming it', async () => {
    const workDir = tempDir('storescu-missing-tool')
    try {
      const stage = storescu({ host: '127.0.0.1', port: 104, calledAet: 'X', transport: 'dcmtk', storescuPath: '/nonexistent/storescu' })
      const file = join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm')
      const error = await stage.run({ files: [file] }, stageContext(workDir)).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'STORE_TOOL_FAILED', retryable: false, message: expect.stringContaining('/nonexistent/storescu') })
    } finally {
      removeDir(workDir)
    }
  })
})
