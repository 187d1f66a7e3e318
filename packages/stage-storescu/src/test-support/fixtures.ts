// Test helpers: real series copied into temp folders, DCMTK storescp receivers, and dataset comparison.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { silentLogger, sleep, type StageContext } from '@pacsflow/core'
import { freePort } from '@pacsflow/testkit'
import { parsePart10Meta } from '../part10.js'

/** A fresh temp folder; `cleanup` removes it. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pacsflow-${prefix}-`))
}

/** Copies a series' `In` folder from the shared data into `dir`, gunzipping `.dcm.gz` files. Returns the file paths. */
export function copySeries(dataDir: string, series: string, dir: string): string[] {
  const source = join(dataDir, series, 'In')
  mkdirSync(dir, { recursive: true })
  const paths: string[] = []
  for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const from = join(entry.parentPath, entry.name)
    const name = `${entry.parentPath.slice(source.length).replace(/[\\/]/g, '_')}_${entry.name}`.replace(/^_/, '')
    if (name.endsWith('.gz')) {
      const to = join(dir, name.slice(0, -3))
      writeFileSync(to, gunzipSync(readFileSync(from)))
      paths.push(to)
    } else {
      const to = join(dir, name)
      cpSync(from, to)
      paths.push(to)
    }
  }
  return paths.sort()
}

/** The data set bytes of a Part 10 file (everything after its meta group). */
export function datasetBytes(bytes: Uint8Array, what = 'file'): Buffer {
  const meta = parsePart10Meta(bytes, what)
  return Buffer.from(bytes.buffer, bytes.byteOffset + meta.datasetOffset, bytes.length - meta.datasetOffset)
}

export interface Storescp {
  readonly port: number
  readonly aet: string
  readonly outDir: string
  /** stderr and stdout so far (with -v: one 'Received Store Request' per C-STORE). */
  log(): string
  stop(): Promise<void>
}

/** Starts DCMTK storescp on a free loopback port, writing to `outDir`, with extra arguments; waits until it listens. */
export async function startStorescp(outDir: string, extra: readonly string[] = [], aet = 'RECEIVER', fixedPort?: number): Promise<Storescp> {
  const port = fixedPort ?? (await freePort())
  const child: ChildProcess = spawn('storescp', ['-v', '-aet', aet, '-od', outDir, ...extra, String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await exited
  }
  for (let waited = 0; ; waited += 50) {
    if (child.exitCode !== null) throw new Error(`storescp exited: ${output}`)
    // The probe is logged as an association of its own: wait for that line, so later counts start clean.
    if (await canConnect(port)) {
      for (let logged = 0; !output.includes('Association Received') && logged < 2000; logged += 20) await sleep(20)
      break
    }
    if (waited > 10_000) {
      await stop()
      throw new Error(`storescp did not listen within 10 s: ${output}`)
    }
    await sleep(50)
  }
  return { port, aet, outDir, log: () => output, stop }
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A StageContext for calling a stage's run directly, as the runner would, with `workDir` as its folder. */
export function stageContext(workDir: string, signal: AbortSignal = new AbortController().signal): StageContext {
  return { jobId: 'test-job', stage: 'storescu', attempt: 1, signal, workDir, log: silentLogger, slots: {}, progress: () => {} }
}
