// The loopback Orthanc really stores what DCMTK sends it, and stops cleanly.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { startOrthanc } from './orthanc.js'
import { haveTools, testDataDir } from './tools.js'

const dataDir = testDataDir()
const ready = haveTools('Orthanc', 'storescu') && dataDir !== undefined

describe.skipIf(!ready)('startOrthanc', () => {
  it('accepts C-STORE on loopback, reports the instances, and stops', async () => {
    const orthanc = await startOrthanc()
    try {
      const files = readdirSync(join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In')).slice(0, 5)
        .map((name) => join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In', name))
      await promisify(execFile)('storescu', ['-aec', orthanc.aet, orthanc.host, String(orthanc.dicomPort), ...files], {
        env: { ...process.env, TCP_NODELAY: '1' },
      })
      expect(await orthanc.rest<string[]>('/instances')).toHaveLength(5)
      const system = await orthanc.rest<{ DicomAet: string; DicomPort: number }>('/system')
      expect(system).toMatchObject({ DicomAet: 'ORTHANC', DicomPort: orthanc.dicomPort })
    } finally {
      await orthanc.stop()
    }
    expect(existsSync(orthanc.storageDir)).toBe(false)
    await expect(fetch(`http://127.0.0.1:${orthanc.httpPort}/system`)).rejects.toThrow()
  })
})
