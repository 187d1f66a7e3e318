// Benchmark: our C-STORE SCU (transport 'dimse') against DCMTK's storescu, same storescp receiver, same files,
// same run, both with TCP_NODELAY: 500 files of 256x256 and 100 of 512x512 (median files/s and the ratio,
// target >= 0.8x), and the peak RSS of a process sending one 268 MB instance (target < 300 MB).
// Needs DCMTK (storescu, storescp) and the shared data (PACSFLOW_TEST_DATA) for the template header.
//
// Run: node --conditions=source --import tsx bench/send.ts [--runs 5]
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parseArgs } from 'node:util'
import { sleep } from '@pacsflow/core'
import { readDicomDataset } from '@pacsflow/imaging'
import { sendToPacs } from '@pacsflow/stage-storescu'
import { makeSet, median, randomUid, writeInstance } from './lib/synthetic.js'

const run = promisify(execFile)
const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '5' }, child: { type: 'boolean' } }, allowPositionals: true })
const repo = resolve(import.meta.dirname, '..')
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(repo, '../shared/data/dicom')
const template = join(dataDir, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm')
const uid = randomUid


async function startReceiver(port: number): Promise<ChildProcess> {
  // --ignore: storescp receives every byte but writes nothing, so its disk does not set the pace.
  const child = spawn('storescp', ['--ignore', '-aet', 'BENCH', String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' })
  for (let waited = 0; waited < 10_000; waited += 50) {
    const up = await new Promise<boolean>((done) => {
      const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), done(true)))
      socket.once('error', () => done(false))
    })
    if (up) return child
    await sleep(50)
  }
  throw new Error('storescp did not start')
}

async function timeStorescu(port: number, files: readonly string[]): Promise<number> {
  const started = performance.now()
  await run('storescu', ['-aec', 'BENCH', '127.0.0.1', String(port), ...files], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 64 * 1024 * 1024 })
  return performance.now() - started
}

async function timeOurs(port: number, files: readonly string[], scratch: string): Promise<number> {
  const outboxDir = mkdtempSync(join(scratch, 'outbox-'))
  const started = performance.now()
  const receipt = await sendToPacs({ files }, { host: '127.0.0.1', port, calledAet: 'BENCH' }, { outboxDir })
  const ms = performance.now() - started
  rmSync(outboxDir, { recursive: true, force: true })
  if (receipt.stored !== files.length) throw new Error(`stored ${receipt.stored} of ${files.length}: ${JSON.stringify(receipt.instances.find((i) => i.error))}`)
  return ms
}

/** Child mode: send one file in a fresh process and report its peak RSS. */
async function childSend(file: string, port: number): Promise<void> {
  const baseline = process.resourceUsage().maxRSS / 1024
  const outboxDir = mkdtempSync(join(tmpdir(), 'pacsflow-bench-outbox-'))
  const started = performance.now()
  const receipt = await sendToPacs({ files: [file] }, { host: '127.0.0.1', port, calledAet: 'BENCH' }, { outboxDir })
  const ms = performance.now() - started
  rmSync(outboxDir, { recursive: true, force: true })
  process.stdout.write(`${JSON.stringify({ stored: receipt.stored, ms, baselineMb: baseline, peakMb: process.resourceUsage().maxRSS / 1024 })}\n`)
}

async function bigInstanceRss(port: number, file: string): Promise<{ stored: number; ms: number; baselineMb: number; peakMb: number; storescuPeakMb: number }> {
  const { stdout } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', import.meta.filename, '--child', file, String(port)], { cwd: repo })
  const ours = JSON.parse(stdout.trim().split('\n').pop()!) as { stored: number; ms: number; baselineMb: number; peakMb: number }
  const { stderr } = await run('/usr/bin/time', ['-v', 'storescu', '-aec', 'BENCH', '127.0.0.1', String(port), file], { env: { ...process.env, TCP_NODELAY: '1' } })
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? Number.NaN)
  return { ...ours, storescuPeakMb: kb / 1024 }
}

async function main(): Promise<void> {
  const runs = Number(values.runs)
  const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-send-'))
  const port = 20000 + Math.floor(Math.random() * 20000)
  const receiver = await startReceiver(port)
  try {
    const base = await readDicomDataset(template)
    const sets = [
      { name: '500 files 256x256', files: (await makeSet(join(scratch, '256'), base, 500, 256)).files },
      { name: '100 files 512x512', files: (await makeSet(join(scratch, '512'), base, 100, 512)).files },
    ]
    await timeOurs(port, sets[0]!.files.slice(0, 20), scratch) // loads dcmjs-dimse and warms the JIT; not measured
    console.log(`send bench: median of ${runs} runs, alternating, storescp --ignore on loopback, TCP_NODELAY=1 for both`)
    for (const { name, files } of sets) {
      const ours: number[] = []
      const theirs: number[] = []
      for (let r = 0; r < runs; r++) {
        theirs.push(await timeStorescu(port, files))
        ours.push(await timeOurs(port, files, scratch))
      }
      const [a, b] = [files.length / (median(ours) / 1000), files.length / (median(theirs) / 1000)]
      console.log(`  ${name}: pacsflow ${a.toFixed(0)} files/s, storescu ${b.toFixed(0)} files/s (process start included), ratio ${(a / b).toFixed(2)} (target >= 0.8)`)
    }
    const big = join(scratch, 'big.dcm')
    await writeInstance(big, base, 512, 512, 512, uid(), 1)
    const rss = await bigInstanceRss(port, big)
    console.log(`  one 268 MB instance: pacsflow peak RSS ${rss.peakMb.toFixed(0)} MB (${rss.baselineMb.toFixed(0)} MB after start-up), ${(rss.ms / 1000).toFixed(2)} s, stored ${rss.stored}; storescu peak RSS ${rss.storescuPeakMb.toFixed(0)} MB (target < 300 MB)`)
  } finally {
    receiver.kill('SIGTERM')
    rmSync(scratch, { recursive: true, force: true })
  }
}

if (values.child === true) await childSend(positionals[0]!, Number(positionals[1]))
else await main()
