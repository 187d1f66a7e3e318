// Find external tools (DCMTK, dcm2niix, nibabel...) and skip loudly without them,
// or fail when PACSFLOW_REQUIRE_TOOLS=1 (CI installs them, so a missing tool is an error there).
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

const required = process.env.PACSFLOW_REQUIRE_TOOLS === '1'

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * True when every command is on PATH. Otherwise prints a loud notice and returns false (the
 * caller skips), or throws when PACSFLOW_REQUIRE_TOOLS=1.
 */
export function haveTools(...commands: string[]): boolean {
  const missing = commands.filter((command) => !onPath(command))
  if (missing.length === 0) return true
  const message = `MISSING TOOLS: ${missing.join(', ')} - integration tests that need them are SKIPPED (apt-get install dcmtk dcm2niix dicom3tools python3-nibabel libgdcm-tools orthanc)`
  if (required) throw new Error(`${message}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  console.warn(`\n*** ${message} ***\n`)
  return false
}

/** A Python interpreter that can import nibabel (Debian's python3-nibabel), or undefined. */
export function nibabelPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import nibabel'], { stdio: 'ignore' })
      return candidate
    } catch {
      // try the next one
    }
  }
  const message = 'MISSING TOOLS: python3 with nibabel (apt-get install python3-nibabel) - nibabel checks are SKIPPED'
  if (required) throw new Error(`${message}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  console.warn(`\n*** ${message} ***\n`)
  return undefined
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The shared real-scanner DICOM folder (PACSFLOW_TEST_DATA, default ../shared/data/dicom
 * beside the repository), or undefined with a loud notice (an error in CI).
 */
export function testDataDir(): string | undefined {
  const dir = process.env.PACSFLOW_TEST_DATA ?? resolve(here, '../../../../shared/data/dicom')
  if (existsSync(join(dir, 'README.md'))) return dir
  const message = `TEST DATA NOT FOUND at ${dir} (set PACSFLOW_TEST_DATA) - tests on real scanner data are SKIPPED`
  if (required) throw new Error(`${message}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  console.warn(`\n*** ${message} ***\n`)
  return undefined
}

/**
 * Copies a series' `In/` folder from the shared data (e.g. `dcm_qa_fmap/Siemens_2_gre_field_magph`)
 * to `target`, gunzipping the `.dcm.gz` files as the data's README asks; returns the DICOM paths, sorted.
 */
export function copyTestSeries(folder: string, target: string, dataDir = testDataDir()): string[] {
  if (dataDir === undefined) throw new Error('no test data (PACSFLOW_TEST_DATA)')
  cpSync(join(dataDir, folder, 'In'), target, { recursive: true })
  const files: string[] = []
  for (const entry of readdirSync(target, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    if (!path.endsWith('.gz')) files.push(path)
    else {
      writeFileSync(path.slice(0, -3), gunzipSync(readFileSync(path)))
      rmSync(path)
      files.push(path.slice(0, -3))
    }
  }
  return files.sort()
}
