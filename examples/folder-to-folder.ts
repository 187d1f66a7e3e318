// Example (the demo): drop folder -> series selection -> native QSM -> DICOM on the T1 -> folder.
//
// It generates the testkit's synthetic exam (multi-echo GRE magnitude and phase and a T1, with a
// known susceptibility), copies it into a watched drop folder the way a memory stick would arrive,
// and runs the whole pipeline with no external tool, no network and no GPU:
//
//   folderInput -> selectStage(qsmRoles) -> qsmNative() -> dicomise() -> folderOutput()
//
// It prints the study, the series it found, each stage's time, where the DICOM went and the
// accuracy against the phantom's truth, and writes a PNG mosaic of the result beside the output.
//
// Run: npm run demo                 (from the repository root, after npm ci)
//      npm run demo -- --out /tmp/demo --preset small --oblique
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { progressReporter } from '@pacsflow/cli'
import { createRunner, fileJobStore, pipeline, type JobRecord } from '@pacsflow/core'
import { encodePng, mosaic, qsmDicomiseInput, qsmRoles, readNifti, selectStage, type QsmResult, type Selection } from '@pacsflow/imaging'
import { dicomise, type DicomiseOutput } from '@pacsflow/stage-dicomise'
import { folderInput } from '@pacsflow/stage-folder-input'
import { folderOutput, type FolderOutputReceipt } from '@pacsflow/stage-folder-output'
import { qsmNative } from '@pacsflow/stage-qsm-native'
import { formatScore, makeExam, scoreQsm } from '@pacsflow/testkit'

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'demo-output' },
    preset: { type: 'string', default: 'default' },
    oblique: { type: 'boolean', default: false },
  },
})
const preset = values.preset === 'small' ? 'small' : 'default'
const out = resolve(values.out)
const marker = join(out, '.pacsflow-demo')
const say = (text = ''): void => void process.stdout.write(`${text}\n`)
const show = (path: string): string => relative(process.cwd(), path) || '.'

// The demo's folder is its own: a previous run's is replaced, anything else is left alone.
if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(marker)) {
  throw new Error(`${out} exists and is not a demo folder: choose another with --out`)
}
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
writeFileSync(marker, 'made by the pacsflow demo; removed by the next run\n')
const [drop, spool, jobs, output] = ['drop', 'spool', 'jobs', 'output'].map((name) => join(out, name)) as [string, string, string, string]
mkdirSync(drop)

const started = performance.now()
say(`pacsflow demo: synthetic QSM exam (${preset} preset${values.oblique ? ', oblique' : ''}) -> native QSM -> DICOM on the T1 -> ${show(output)}`)
const exam = await makeExam(join(out, 'exam'), { preset, seed: 1, ...(values.oblique ? { oblique: 15 } : {}) })
say(`  exam generated in ${seconds(performance.now() - started)}: ${exam.series.magnitude.files + exam.series.phase.files + (exam.series.t1?.files ?? 0)} DICOM files, truth in ${show(exam.truth.dir)}`)

const store = fileJobStore(jobs)
const flow = pipeline(selectStage(qsmRoles))
  .pipe(qsmNative())
  .pipe(dicomise({ input: qsmDicomiseInput, quantity: 'susceptibility', seriesDescription: 'QSM (pacsflow demo, not for diagnosis)' }))
  .pipe(folderOutput({ dir: output }))
const runner = createRunner({
  // A short quiet period: the demo copies the exam in one go (a site keeps the 60 s default).
  source: folderInput({ dir: drop, spool, quietPeriodMs: 2000, stableMs: 300, pollMs: 1000 }),
  pipeline: flow,
  store,
  concurrency: 1,
})
const reporter = progressReporter({ write: (text) => void process.stdout.write(text), isTty: process.stdout.isTTY === true, columns: process.stdout.columns ?? 80 })
runner.on('*', reporter.handle)
const finished = new Promise<{ jobId: string; ok: boolean }>((resolveJob) => {
  runner.on('job:done', (event) => resolveJob({ jobId: event.jobId, ok: true }))
  runner.on('job:failed', (event) => resolveJob({ jobId: event.jobId, ok: false }))
})
await runner.start()
// As a memory stick arrives: the whole exam folder appears in the drop folder.
cpSync(exam.dicomDir, join(drop, 'exam'), { recursive: true })
say(`  exam copied into the drop folder ${show(drop)}; waiting for it to settle, then processing`)
const { jobId, ok } = await finished
reporter.close()
await runner.stop()
const record = await store.get(jobId)
if (!ok || record === undefined) {
  say(`\nthe job failed: ${record?.error?.code ?? '?'}: ${record?.error?.message ?? 'no record'}`)
  process.exitCode = 1
} else {
  await summary(record)
}

async function summary(job: JobRecord): Promise<void> {
  const output = (stage: string): unknown => job.checkpoints.find((checkpoint) => checkpoint.stage === stage)?.output
  const selection = output('select') as Selection<typeof qsmRoles>
  const qsm = output('qsm-native') as QsmResult
  const series = output('dicomise') as DicomiseOutput
  const receipt = output('folder-output') as FolderOutputReceipt
  const study = selection.magnitude.series
  say('')
  say(`study     ${study.studyInstanceUid}`)
  for (const role of ['magnitude', 'phase', 't1', 'fgatir'] as const) {
    const chosen = selection[role]
    if (chosen === undefined) continue
    const volume = chosen.volumes[0]!
    say(`  ${role.padEnd(9)} series ${String(chosen.series.seriesNumber ?? '?').padStart(3)} "${chosen.series.seriesDescription ?? ''}": ${chosen.volumes.length} volume(s) of ${volume.columns}x${volume.rows}x${volume.slices}`)
  }
  say('stages')
  for (const checkpoint of job.checkpoints) say(`  ${checkpoint.stage.padEnd(14)} ${seconds(checkpoint.durationMs).padStart(8)}`)
  say(`  qsm steps: ${Object.entries(qsm.timings).map(([step, ms]) => `${step} ${seconds(ms)}`).join(', ')}`)
  say(`output    ${receipt.written} DICOM files of series ${series.seriesNumber ?? '?'} "${series.seriesDescription ?? ''}" in ${show(receipt.dir)}`)
  const score = await scoreQsm(qsm.chi, exam.truth.dir)
  say('accuracy against the phantom (chi on the GRE grid)')
  say(formatScore(score).trimEnd().replace(/^/gm, '  '))
  const png = join(out, 'qsm-mosaic.png')
  await writeMosaic(qsm.chiOnTarget, png)
  say(`preview   ${show(png)} (susceptibility on the T1 grid, -0.15 to +0.15 ppm)`)
  say(`done in ${seconds(performance.now() - started)}`)
}

/** Axial slices of the result, windowed for deep grey matter, as one PNG. */
async function writeMosaic(niftiPath: string, pngPath: string): Promise<void> {
  const image = await readNifti(niftiPath)
  const [nx, ny, nz] = image.header.dims as [number, number, number]
  const tiles = mosaic(image.data, [nx, ny, nz], { window: { center: 0, width: 0.3 }, slices: 16 })
  await writeFile(pngPath, encodePng({ width: tiles.width, height: tiles.height, channels: 1, pixels: tiles.pixels }))
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
