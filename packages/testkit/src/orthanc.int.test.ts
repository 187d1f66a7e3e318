// The loopback Orthanc really stores what DCMTK sends it, and stops cleanly.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { startOrthanc } from './orthanc.js'

const required = process.env.PACSFLOW_REQUIRE_TOOLS === '1'
function have(command: string): boolean {
  const found = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)))
  if (!found && required) throw new Error(`MISSING TOOL ${command}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  if (!found) console.warn(`\n*** MISSING TOOL ${command} (apt-get install orthanc dcmtk) - Orthanc tests SKIPPED ***\n`)
  return found
}
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/data/dicom')
const series = join(dataDir, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In')

describe.skipIf(!(have('Orthanc') && have('storescu')) || !existsSync(series))('startOrthanc', () => {
  it('accepts C-STORE on loopback, reports the instances, and stops', async () => {
    const orthanc = await startOrthanc()
    try {
      const files = readdirSync(series).slice(0, 5).map((name) => join(series, name))
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
