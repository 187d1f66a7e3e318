// Benchmark: `pacsflow dicom2nifti` against Debian's dcm2niix (-z n) on the same series, whole
// process each (start-up included), several runs, median wall time and the ratio.
// Needs a build (npm run build), dcm2niix on PATH and the shared data (PACSFLOW_TEST_DATA).
//
// Run: npm run bench:convert -- [--runs 7]
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from './lib/synthetic.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } })
const runs = Number(values.runs)
const repo = resolve(import.meta.dirname, '..')
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(repo, '../shared/data/dicom')
const cli = join(repo, 'packages/cli/bin/pacsflow.js')

const series = [
  { name: 'Philips 2-echo mag+phase, 212 slices (80x80)', folder: 'dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping' },
  { name: 'Siemens XA30 3D T1, 96 slices (128x128)', folder: 'dcm_qa_xa30i/5001_anat-T1w_acq-tfl' },
  { name: 'Siemens 2-echo GRE, 72 slices (64x64)', folder: 'dcm_qa_fmap/Siemens_2_gre_field_magph' },
]

if (!existsSync(join(repo, 'packages/cli/dist/cli.js'))) throw new Error('run `npm run build` first')
execFileSync('dcm2niix', ['-h'], { stdio: 'ignore' })

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-convert-'))

function time(command: string, args: string[], out: string): number {
  rmSync(out, { recursive: true, force: true })
  execFileSync('mkdir', ['-p', out])
  const started = performance.now()
  execFileSync(command, args, { stdio: 'ignore' })
  return performance.now() - started
}

try {
  console.log(`convert bench: median of ${runs} runs, whole process each (ms)`)
  for (const { name, folder } of series) {
    const input = join(scratch, folder.replace(/\//g, '_'))
    cpSync(join(dataDir, folder, 'In'), input, { recursive: true })
    execFileSync('sh', ['-c', `find "${input}" -name '*.gz' -exec gunzip -f {} +`])
    const files = execFileSync('sh', ['-c', `find "${input}" -type f | wc -l`]).toString().trim()
    const ours: number[] = []
    const theirs: number[] = []
    for (let run = 0; run < runs; run++) {
      ours.push(time(process.execPath, [cli, 'dicom2nifti', input, join(scratch, 'ours')], join(scratch, 'ours')))
      theirs.push(time('dcm2niix', ['-z', 'n', '-b', 'y', '-o', join(scratch, 'theirs'), input], join(scratch, 'theirs')))
    }
    const count = (dir: string): number => readdirSync(dir).filter((f) => f.endsWith('.nii')).length
    const [a, b] = [median(ours), median(theirs)]
    console.log(`  ${name} (${files} files): pacsflow ${a.toFixed(0)} ms (${count(join(scratch, 'ours'))} nii), dcm2niix ${b.toFixed(0)} ms (${count(join(scratch, 'theirs'))} nii), ratio ${(a / b).toFixed(2)} (target <= 1.5)`)
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
