// Benchmark: encode a 256x256x176 float32 volume as a DICOM series (one file per slice, fsynced),
// as stage-dicomise does; prints slices/s with a per-slice breakdown, and side by side, in the
// same run, dcmjs writing each slice whole (the obvious implementation) and DCMTK's dcmodify
// rewriting the same files once (a lower bound for any tool that rewrites a file per slice).
// Needs the shared data (PACSFLOW_TEST_DATA) for a reference series' patient and study.
//
// Run: node --conditions=source --import tsx bench/dicomise.ts [--runs 5]
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { groupStudies, indexDicom, niftiLayout, readDicomDataset, writeNifti, writePart10, type DicomSeries, type Mat4 } from '@pacsflow/imaging'
import { niftiToDicom, type EncodeTiming } from '@pacsflow/stage-dicomise'
import { median } from './lib/synthetic.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } })
const runs = Number(values.runs)
const repo = resolve(import.meta.dirname, '..')
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(repo, '../shared/data/dicom')
const dims = [256, 256, 176] as const
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-dicomise-'))

async function referenceSeries(): Promise<DicomSeries> {
  const { instances } = await indexDicom(join(dataDir, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In'))
  return groupStudies(instances)[0]!.series[0]!
}

/** A QSM-like volume: smooth structure in +-0.3 ppm with noise, 1 mm isotropic, axial. */
async function volume(path: string, affine: Mat4): Promise<void> {
  const data = new Float32Array(dims[0] * dims[1] * dims[2])
  for (let n = 0; n < data.length; n++) data[n] = 0.2 * Math.sin(n * 0.001) + 0.1 * Math.cos((n % 256) * 0.05) + ((n * 2654435761) % 1000) * 1e-5
  await writeNifti(path, { data, dims, affine })
}

function emptyTiming(): EncodeTiming {
  return { read: 0, resample: 0, prepare: 0, digest: 0, quantise: 0, assemble: 0, write: 0, flush: 0, index: 0 }
}

/** CPU time of all the process's threads (main, worker, file system pool), per run, in ms. */
const cpu: Record<string, number[]> = {}

async function encode(nifti: string, reference: DicomSeries, grid: 'own' | 'reference', outDir: string, timing: EncodeTiming, name: string): Promise<number> {
  rmSync(outDir, { recursive: true, force: true })
  const before = process.cpuUsage()
  const started = performance.now()
  await niftiToDicom({ nifti, reference, outDir, uidSeed: 'bench', timing }, { grid })
  const elapsed = performance.now() - started
  const used = process.cpuUsage(before)
  ;(cpu[name] ??= []).push((used.user + used.system) / 1000)
  return elapsed
}

const titles: Record<string, string> = {
  own: 'grid: own (no resampling)',
  same: 'grid: reference, input already on that grid (copied)',
  rotated: 'grid: reference, input rotated 10 degrees (trilinear)',
}

function report(name: string, times: number[], timing: EncodeTiming): void {
  const ms = median(times)
  const cpuMs = median(cpu[name] ?? [0])
  const perSlice = (value: number): string => ((value / runs / dims[2]) * 1000).toFixed(0).padStart(5)
  console.log(`  ${titles[name]}: ${(dims[2] / (ms / 1000)).toFixed(0)} slices/s (median ${ms.toFixed(0)} ms for ${dims[2]} slices; target >= 800)`)
  console.log(`    CPU of all threads: ${cpuMs.toFixed(0)} ms per volume, ${((cpuMs / dims[2]) * 1000).toFixed(0)} us per slice (two cores give ${((2 * dims[2]) / (cpuMs / 1000)).toFixed(0)} slices/s if nothing else runs)`)
  console.log(
    `    per slice (us): read ${perSlice(timing.read)}  resample ${perSlice(timing.resample)}  range ${perSlice(timing.prepare)}  wait for digest ${perSlice(timing.digest)}` +
      `  header ${perSlice(timing.assemble)}  quantise ${perSlice(timing.quantise)}  write (not overlapped) ${perSlice(timing.write)}  fsync ${perSlice(timing.flush)}  describe ${perSlice(timing.index)}`,
  )
}

/** The obvious way: every slice's whole dataset through dcmjs, then an fsynced write. */
async function dcmjsPerSlice(files: readonly string[], outDir: string): Promise<number> {
  const datasets = await Promise.all(files.map((file) => readDicomDataset(file)))
  execFileSync('mkdir', ['-p', outDir])
  const started = performance.now()
  for (const [k, dataset] of datasets.entries()) {
    const path = join(outDir, `${k}.dcm`)
    await writeFile(path, writePart10(dataset), { flush: true })
  }
  return performance.now() - started
}

try {
  const reference = await referenceSeries()
  const axial: Mat4 = [[-1, 0, 0, 128], [0, 1, 0, -128], [0, 0, 1, -88], [0, 0, 0, 1]]
  await volume(join(scratch, 'qsm.nii'), axial)
  console.log(`dicomise bench: ${dims.join('x')} float32, ${runs} runs, one fsynced file per slice, ${process.platform} ${process.arch}`)

  // 1. The NIfTI's own grid: values copied, no resampling.
  const own = emptyTiming()
  const ownTimes: number[] = []
  for (let r = 0; r < runs; r++) ownTimes.push(await encode(join(scratch, 'qsm.nii'), reference, 'own', join(scratch, 'own'), own, 'own'))
  report('own', ownTimes, own)

  // 2. Onto a 256x256x176 reference grid (the series just written), from an input already on
  //    it (a QSM pipeline's result on the T1 grid): voxel centres coincide, values are copied.
  const onGrid = (await indexDicom(join(scratch, 'own'))).instances
  const bigReference = groupStudies(onGrid)[0]!.series[0]!
  const layout = niftiLayout(bigReference.volumes[0]!, bigReference)
  await volume(join(scratch, 'on-grid.nii'), layout.affine)
  const same = emptyTiming()
  const sameTimes: number[] = []
  for (let r = 0; r < runs; r++) sameTimes.push(await encode(join(scratch, 'on-grid.nii'), bigReference, 'reference', join(scratch, 'same'), same, 'same'))
  report('same', sameTimes, same)

  // 3. Onto the same grid from an input rotated by 10 degrees: trilinear resampling included.
  const c = Math.cos(0.1745)
  const s = Math.sin(0.1745)
  await volume(join(scratch, 'rotated.nii'), [[-c, -s, 0, 140], [-s, c, 0, -120], [0, 0, 1, -88], [0, 0, 0, 1]])
  const ref = emptyTiming()
  const refTimes: number[] = []
  for (let r = 0; r < runs; r++) refTimes.push(await encode(join(scratch, 'rotated.nii'), bigReference, 'reference', join(scratch, 'ref'), ref, 'rotated'))
  report('rotated', refTimes, ref)

  // 4. Side by side: the same files written whole by dcmjs, and rewritten once by DCMTK's dcmodify.
  const files = readdirSync(join(scratch, 'own')).map((name) => join(scratch, 'own', name))
  const dcmjsTimes: number[] = []
  for (let r = 0; r < Math.min(runs, 3); r++) dcmjsTimes.push(await dcmjsPerSlice(files, join(scratch, `dcmjs-${r}`)))
  console.log(`  dcmjs writePart10 per slice (whole dataset each time): ${(dims[2] / (median(dcmjsTimes) / 1000)).toFixed(0)} slices/s`)
  if (spawnSync('sh', ['-c', 'command -v dcmodify']).status === 0) {
    const times: number[] = []
    for (let r = 0; r < Math.min(runs, 3); r++) {
      const started = performance.now()
      execFileSync('dcmodify', ['-nb', '-m', '(0020,0013)=1', ...files])
      times.push(performance.now() - started)
    }
    console.log(`  DCMTK dcmodify rewriting the ${dims[2]} files once (one process, no fsync): ${(dims[2] / (median(times) / 1000)).toFixed(0)} slices/s`)
  } else {
    console.log('  DCMTK dcmodify not on PATH: no external comparison')
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
