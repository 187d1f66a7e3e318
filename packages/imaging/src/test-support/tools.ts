// Test helper: find external tools (DCMTK, dcm2niix, nibabel...) and skip loudly without them,
// or fail when PACSFLOW_REQUIRE_TOOLS=1 (CI installs them, so a missing tool is an error there).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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
  const message = `MISSING TOOLS: ${missing.join(', ')} - integration tests that need them are SKIPPED (apt-get install dcmtk dcm2niix dicom3tools python3-nibabel libgdcm-tools)`
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
  const dir = process.env.PACSFLOW_TEST_DATA ?? resolve(here, '../../../../../shared/data/dicom')
  if (existsSync(join(dir, 'README.md'))) return dir
  const message = `TEST DATA NOT FOUND at ${dir} (set PACSFLOW_TEST_DATA) - tests on real scanner data are SKIPPED`
  if (required) throw new Error(`${message}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  console.warn(`\n*** ${message} ***\n`)
  return undefined
}

/**
 * True when a package's build output exists (`npm run build`; `npm test` builds first). Otherwise a
 * loud notice and false (the caller skips), or an error when PACSFLOW_REQUIRE_TOOLS=1.
 */
export function haveBuild(path: string): boolean {
  if (existsSync(path)) return true
  const message = `NO BUILD: ${path} is missing (run npm run build) - tests of the built package are SKIPPED`
  if (required) throw new Error(`${message}; PACSFLOW_REQUIRE_TOOLS=1 makes this an error`)
  console.warn(`\n*** ${message} ***\n`)
  return false
}
