// Benchmark: indexDicom over 2,000+ real MR files (copies of the shared Siemens/Philips data, gunzipped), side by side
// with DCMTK's dcmdump reading the same files' headers in one process. Prints files/s for each and the ratio.
//
// Run: node --conditions=source --import tsx bench/index.ts [--files 2400] [--concurrency 16] [--rounds 3]
// Data: PACSFLOW_TEST_DATA, default ../shared/data/dicom beside the repository.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { indexDicom } from '@pacsflow/imaging'

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '2400' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
})
const wanted = Number(values.files)
const concurrency = Number(values.concurrency)
const rounds = Number(values.rounds)
const run = promisify(execFile)

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(repoRoot, '../shared/data/dicom')
if (!existsSync(join(dataDir, 'README.md'))) {
  throw new Error(`no test data at ${dataDir} (set PACSFLOW_TEST_DATA)`)
}

/** The DICOM files (gunzipped in memory) of every series' In/ folder. */
async function sourceFiles(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((entry) => entry.isFile() && /\/In(\/|$)/.test(entry.parentPath) && /\.dcm(\.gz)?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
  return Promise.all(files.map(async (path) => {
    const bytes = await readFile(path)
    return { name: basename(path).replace(/\.gz$/, ''), bytes: path.endsWith('.gz') ? gunzipSync(bytes) : bytes }
  }))
}

/** Writes copies of the sources into `dir` until there are at least `count` files; returns their paths. */
async function buildFolder(dir: string, count: number): Promise<string[]> {
  const sources = await sourceFiles()
  const paths: string[] = []
  for (let copy = 0; paths.length < count; copy++) {
    const folder = join(dir, `copy-${copy}`)
    await mkdir(folder)
    for (const source of sources) {
      const path = join(folder, source.name)
      await writeFile(path, source.bytes)
      paths.push(path)
    }
  }
  return paths
}

async function timeIndex(dir: string, count: number): Promise<number> {
  const started = performance.now()
  const { instances, problems } = await indexDicom(dir, { concurrency })
  const seconds = (performance.now() - started) / 1000
  if (instances.length !== count || problems.length > 0) throw new Error(`indexDicom: ${instances.length} indexed, ${problems.length} problems`)
  return seconds
}

// dcmdump in one process over every file: stop before the pixel data, do not load long values,
// print just the three UIDs an index needs.
async function timeDcmdump(paths: readonly string[]): Promise<number> {
  const args = ['-q', '-M', '+sb', '7fe0,0010', '-s', '+P', '0020,000d', '+P', '0020,000e', '+P', '0008,0018', ...paths]
  const started = performance.now()
  const { stdout } = await run('dcmdump', args, { maxBuffer: 512 * 1024 * 1024 })
  const seconds = (performance.now() - started) / 1000
  const studies = stdout.split('\n').filter((line) => line.startsWith('(0020,000d)')).length
  if (studies !== paths.length) throw new Error(`dcmdump printed ${studies} StudyInstanceUIDs for ${paths.length} files`)
  return seconds
}

const median = (numbers: number[]): number => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? Number.NaN

const dir = await mkdtemp(join(tmpdir(), 'pacsflow-bench-dicom-'))
try {
  const paths = await buildFolder(dir, wanted)
  const bytes = (await Promise.all(paths.slice(0, 600).map(async (path) => (await readFile(path)).length))).reduce((a, b) => a + b, 0) / Math.min(600, paths.length)
  console.log(`${paths.length} files (mean ${(bytes / 1024).toFixed(0)} KiB), ${availableParallelism()} CPUs, concurrency ${concurrency}, median of ${rounds} rounds (warm page cache)`)
  await timeIndex(dir, paths.length)
  const ours: number[] = []
  const theirs: number[] = []
  for (let round = 0; round < rounds; round++) {
    ours.push(await timeIndex(dir, paths.length))
    theirs.push(await timeDcmdump(paths))
  }
  const oursRate = paths.length / median(ours)
  const theirsRate = paths.length / median(theirs)
  console.log(`indexDicom: ${oursRate.toFixed(0)} files/s (${(median(ours) * 1000).toFixed(0)} ms)`)
  console.log(`dcmdump:    ${theirsRate.toFixed(0)} files/s (${(median(theirs) * 1000).toFixed(0)} ms, one process, stop before pixel data)`)
  console.log(`ratio:      ${(oursRate / theirsRate).toFixed(2)}x dcmdump`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
