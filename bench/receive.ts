// Benchmark: DCMTK storescu into our C-STORE SCP (stage-dimse-input with a spool, in a child process) against
// storescu into DCMTK storescp (no --fork, writing the files), same files, same run, TCP_NODELAY=1 everywhere:
// 500 files of 256x256 and 100 of 512x512, on one association and on 4 parallel associations (median files/s,
// MB/s and the ratio; targets >= 0.8x on one, >= 1.0x on four), and the peak RSS of our SCP's process while it
// receives one 268 MB instance (target < 400 MB). Our SCP answers success only once a file is fsynced and renamed
// into the spool; storescp writes without fsync. Between receivers the bench runs sync(1), untimed (see settle).
// Needs DCMTK (storescu, storescp) and the shared data (PACSFLOW_TEST_DATA) for the template header.
//
// The ratio compares running receivers: ours first takes --warm other objects of the same shape, untimed,
// as a receiver that has been in service would have (Node compiles hot code after a few hundred to a few
// thousand calls; storescp is native from the start). The same run also times our SCP as a process that
// has just started (cold), and our SCP without the spool's commit (a diagnostic).
//
// Received files are deleted after each case, then the bench waits --cooldown seconds: on this VM's disk
// (ext4 without a journal, mounted with `discard`), creating files soon after deleting thousands took
// 0.13-0.5 ms per file instead of 0.01-0.07 (the kernel's inode allocator skips inodes freed in the
// last 60 s, reading each one's deletion time: `recently_deleted` in a profile), while keeping every
// case's files (over 10 GB with the warm-up) filled the disk's queue and made whole runs stall.
//
// Run: node --conditions=source --import tsx bench/receive.ts [--runs 3] [--associations 1,4] [--sets 256,512,big] [--warm 600] [--cooldown 60]
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { fsyncPlacement, sleep } from '@pacsflow/core'
import { readDicomDataset, type Part10Dataset } from '@pacsflow/imaging'
import { createSpool } from '@pacsflow/spool'
import { startStoreScp, type ReceiverSpool, type ScpStatsSnapshot } from '@pacsflow/stage-dimse-input'
import { makeSet, median, randomUid, writeInstance } from './lib/synthetic.js'

const run = promisify(execFile)
const { values, positionals } = parseArgs({ options: { runs: { type: 'string', default: '3' }, associations: { type: 'string', default: '1,4' }, sets: { type: 'string', default: '256,512,big' }, warm: { type: 'string', default: '600' }, cooldown: { type: 'string', default: '60' }, child: { type: 'boolean' } }, allowPositionals: true })
const repo = resolve(import.meta.dirname, '..')
const dataDir = process.env.PACSFLOW_TEST_DATA ?? resolve(repo, '../shared/data/dicom')
const template = join(dataDir, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm')
const env = { ...process.env, TCP_NODELAY: '1' }
const uid = randomUid


async function waitForPort(port: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const up = await new Promise<boolean>((done) => {
      const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), done(true)))
      socket.once('error', () => done(false))
    })
    if (up) return
    await sleep(50)
  }
  throw new Error(`nothing listens on ${port}`)
}

interface Receiver {
  readonly port: number
  stop(): Promise<{ stats?: ScpStatsSnapshot; peakMb?: number }>
}

async function startStorescp(outDir: string): Promise<Receiver> {
  const port = 20000 + Math.floor(Math.random() * 20000)
  // Without the probe's association in the way: storescp (no --fork) handles one association at a time.
  const child = spawn('storescp', ['-aet', 'BENCH', '-od', outDir, String(port)], { env, stdio: 'ignore' })
  await waitForPort(port)
  return {
    port,
    stop: async () => {
      const exited = new Promise((done) => child.once('exit', done))
      child.kill('SIGTERM')
      await exited
      return {}
    },
  }
}

type Mode = 'spool' | 'no-commit'

async function startOurs(spoolDir: string, mode: Mode = 'spool'): Promise<Receiver> {
  const child: ChildProcess = fork(import.meta.filename, ['--child', spoolDir, mode], { execArgv: ['--conditions=source', '--import', 'tsx'], cwd: repo, stdio: 'inherit' })
  const port = await new Promise<number>((done, fail) => {
    child.once('message', (message) => done((message as { port: number }).port))
    child.once('exit', (code) => fail(new Error(`SCP child exited with ${code}`)))
  })
  return {
    port,
    stop: async () => {
      const answer = new Promise<{ stats: ScpStatsSnapshot; peakMb: number }>((done) => child.once('message', (message) => done(message as { stats: ScpStatsSnapshot; peakMb: number })))
      child.send('stop')
      const result = await answer
      if (child.exitCode === null) await new Promise((done) => child.once('exit', done))
      return result
    },
  }
}

/**
 * Child mode: our SCP on a free port; 'stop' closes it and reports its counters and peak RSS.
 * Mode 'spool': a real spool (commit: header check, fsync, link, folder fsync). Mode 'no-commit':
 * each object written to its incoming file and closed, nothing more, as storescp does; a diagnostic
 * that separates the receiver's own cost from the spool's durable commit.
 */
async function childScp(spoolDir: string, mode: Mode): Promise<void> {
  const spool = await createSpool({ dir: spoolDir })
  const noCommit: ReceiverSpool = { dir: spool.dir, incomingPath: (hint) => spool.incomingPath(hint), commit: async (path) => ({ status: 'stored', path }) }
  const scp = await startStoreScp({ aet: 'BENCH', port: 0, spool: mode === 'spool' ? spool : noCommit, maxAssociations: 8 })
  const cpuAtStart = process.cpuUsage()
  if (process.send === undefined) {
    // Run by hand (e.g. under --cpu-prof): the port on stdout, SIGINT stops it.
    console.log(`listening on ${scp.port}`)
    process.once('SIGINT', () => void scp.close().then(() => console.log(JSON.stringify({ ...scp.stats(), cpu: process.cpuUsage(cpuAtStart), fsync: fsyncPlacement }))))
    return
  }
  process.send({ port: scp.port })
  process.on('message', (message) => {
    if (message !== 'stop') return
    void scp.close().then(() => {
      process.send?.({ stats: scp.stats(), peakMb: process.resourceUsage().maxRSS / 1024 }, () => process.exit(0))
    })
  })
}

/** Sends `files` with `associations` storescu processes at once (each its share, one association each); returns ms. */
async function timeSend(port: number, files: readonly string[], associations: number): Promise<number> {
  const shares = Array.from({ length: associations }, (_, k) => files.filter((_, n) => n % associations === k))
  const started = performance.now()
  await Promise.all(shares.map((share) => run('storescu', ['-aec', 'BENCH', '127.0.0.1', String(port), ...share], { env, maxBuffer: 64 * 1024 * 1024 })))
  return performance.now() - started
}

/**
 * Writes every dirty page out (sync(1)), untimed, between receivers. storescp and the no-commit
 * diagnostic leave up to 100+ MB unflushed, and a later fsync can wait for that writeback (on a
 * journaled ext4, data=ordered, its journal commit does): our receiver's fsyncs would pay for the
 * files of the run before.
 */
async function settle(): Promise<void> {
  await run('sync')
}

interface Measured {
  readonly storescp: number[]
  readonly ours: number[]
  readonly oursCold: number[]
  readonly noCommit: number[]
}

/**
 * One receiver's timed run. With `warmUp`, those files (same shape, other UIDs) are sent first,
 * untimed, on the same associations, and the disk is synced: the timed run then measures the
 * receiver as a service that has been running, its code compiled by the JIT (Node) or already
 * native (DCMTK). Without, it measures a process that has just started.
 */
async function timeReceiver(receiver: Receiver, files: readonly string[], associations: number, warmUp: readonly string[] | undefined): Promise<number> {
  if (warmUp !== undefined) {
    await timeSend(receiver.port, warmUp, associations)
    await settle()
  }
  return timeSend(receiver.port, files, associations)
}

async function timeOurs(scratch: string, files: readonly string[], associations: number, mode: Mode, warmUp: readonly string[] | undefined): Promise<number> {
  const spoolDir = mkdtempSync(join(scratch, 'spool-'))
  const scp = await startOurs(spoolDir, mode)
  const ms = await timeReceiver(scp, files, associations, warmUp)
  const { stats } = await scp.stop()
  const expected = files.length + (warmUp?.length ?? 0)
  if (stats?.received !== expected) throw new Error(`our SCP received ${stats?.received} of ${expected}: ${JSON.stringify(stats)}`)
  return ms
}

async function measure(scratch: string, files: readonly string[], warmUp: readonly string[], associations: number, runs: number): Promise<Measured> {
  const measured: Measured = { storescp: [], ours: [], oursCold: [], noCommit: [] }
  for (let r = 0; r < runs; r++) {
    const outDir = mkdtempSync(join(scratch, 'storescp-'))
    const storescp = await startStorescp(outDir)
    // Native code needs no warming; its folder then holds fewer files than ours (a slight advantage to storescp).
    measured.storescp.push(await timeReceiver(storescp, files, associations, undefined))
    await storescp.stop()
    const stored = readdirSync(outDir).length
    if (stored !== files.length) throw new Error(`storescp stored ${stored} of ${files.length}`)
    await settle()
    measured.ours.push(await timeOurs(scratch, files, associations, 'spool', warmUp))
    await settle()
    measured.oursCold.push(await timeOurs(scratch, files, associations, 'spool', undefined))
    measured.noCommit.push(await timeOurs(scratch, files, associations, 'no-commit', warmUp))
    await settle()
  }
  return measured
}

/**
 * What a case received is deleted once the case is over (tens of thousands of files, GBs: kept,
 * they filled the page cache and the disk's queue), then the bench waits: ext4's inode allocator
 * skips inodes freed in the last 60 s (longer while their table block is dirty), reading each
 * one's deletion time, which made file creation several times slower right after a mass deletion.
 */
async function coolDown(dir: string, seconds: number): Promise<void> {
  rmSync(dir, { recursive: true, force: true })
  await settle()
  await sleep(seconds * 1000)
}

async function bigInstance(scratch: string, base: Part10Dataset): Promise<void> {
  const big = join(scratch, 'big.dcm')
  const bytes = await writeInstance(big, base, 512, 512, 512, uid(), 1)
  const spoolDir = mkdtempSync(join(scratch, 'spool-big-'))
  const scp = await startOurs(spoolDir)
  const ms = await timeSend(scp.port, [big], 1)
  const { stats, peakMb } = await scp.stop()
  console.log(`  one ${(bytes / 1e6).toFixed(0)} MB instance: our SCP's peak RSS ${peakMb?.toFixed(0)} MB (target < 400), ${(ms / 1000).toFixed(2)} s, received ${stats?.received}`)
  rmSync(spoolDir, { recursive: true, force: true })
}

async function main(): Promise<void> {
  const runs = Number(values.runs)
  const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-receive-'))
  try {
    const base = await readDicomDataset(template)
    const wanted = values.sets.split(',')
    const sets = []
    const warmCount = Number(values.warm)
    if (wanted.includes('256')) {
      sets.push({ name: '500 files 256x256', ...(await makeSet(join(scratch, '256'), base, 500, 256)), warmUp: (await makeSet(join(scratch, '256-warm'), base, warmCount, 256)).files })
    }
    if (wanted.includes('512')) {
      sets.push({ name: '100 files 512x512', ...(await makeSet(join(scratch, '512'), base, 100, 512)), warmUp: (await makeSet(join(scratch, '512-warm'), base, warmCount / 2, 512)).files })
    }
    await settle()
    console.log(`receive bench: ${runs} runs, alternating receivers within each; rates are medians, ratios the median of each run's ratio to storescp; storescu (TCP_NODELAY=1) into each receiver; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
    console.log(`  running: our SCP first takes ${warmCount} other objects (${warmCount / 2} for 512x512), untimed (storescp: none); cold: our SCP just started`)
    for (const associations of values.associations.split(',').map(Number)) {
      const target = associations === 1 ? 0.8 : 1.0
      for (const { name, files, bytes, warmUp } of sets) {
        const received = join(scratch, `received-${associations}-${files.length}`)
        mkdirSync(received)
        const measured = await measure(received, files, warmUp, associations, runs)
        await coolDown(received, Number(values.cooldown))
        const rate = (ms: readonly number[]): string => {
          const seconds = median(ms) / 1000
          return `${(files.length / seconds).toFixed(0)} files/s ${(bytes / 1e6 / seconds).toFixed(0)} MB/s`
        }
        // Each run times storescp and then ours within seconds of each other; on a shared host the
        // ratio within a run is steadier than the ratio of medians taken across runs.
        const ratio = (ms: readonly number[]): string => {
          const paired = ms.map((oursMs, r) => measured.storescp[r]! / oursMs).sort((a, b) => a - b)
          return `ratio ${median(paired).toFixed(2)} (runs ${paired[0]!.toFixed(2)}-${paired.at(-1)!.toFixed(2)})`
        }
        console.log(`  ${name}, ${associations} association(s): pacsflow ${rate(measured.ours)}, storescp ${rate(measured.storescp)}: ${ratio(measured.ours)} (target >= ${target})`)
        console.log(`      pacsflow cold (process just started): ${rate(measured.oursCold)}, ${ratio(measured.oursCold)}`)
        console.log(`      diagnostic, pacsflow running, without the spool's commit (written, not fsynced, as storescp): ${rate(measured.noCommit)}, ${ratio(measured.noCommit)}`)
      }
    }
    if (wanted.includes('big')) await bigInstance(scratch, base)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

if (values.child === true) await childScp(positionals[0]!, positionals[1] === 'no-commit' ? 'no-commit' : 'spool')
else await main()
