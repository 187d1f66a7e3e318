// A throwaway Orthanc PACS on loopback for tests: free ports, its own storage, stopped by the caller.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PacsflowError, sleep } from '@pacsflow/core'

export interface OrthancOptions {
  /** The PACS's AE title (default 'ORTHANC'). */
  readonly aet?: string
  /** Fixed ports (default: free ones, chosen at start). */
  readonly dicomPort?: number
  readonly httpPort?: number
  /** Keep the storage here across restarts (default: a new temp folder, removed by `stop`). */
  readonly storageDir?: string
  /** Other AEs Orthanc may C-MOVE to: name -> [aet, host, port]. */
  readonly modalities?: Readonly<Record<string, readonly [string, string, number]>>
  /** Seconds without new instances before Orthanc calls a study stable (default 1). */
  readonly stableAge?: number
  /** The `Orthanc` executable (default: from PATH). */
  readonly executable?: string
  /** How long to wait for it to answer (default 20000 ms). */
  readonly startTimeoutMs?: number
}

/** A running Orthanc. */
export interface OrthancServer {
  readonly aet: string
  readonly host: '127.0.0.1'
  readonly dicomPort: number
  readonly httpPort: number
  readonly storageDir: string
  /** GET (or POST with a body) on Orthanc's REST API; the parsed JSON answer. */
  rest<T = unknown>(path: string, body?: unknown): Promise<T>
  /** Stops the process (SIGTERM, then SIGKILL after 5 s); removes a temp storage folder unless `keepStorage`. */
  stop(options?: { readonly keepStorage?: boolean }): Promise<void>
}

/** A TCP port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * Starts Orthanc bound to loopback with DICOM and HTTP on free ports and waits until its REST
 * API answers. Throws `INVALID_OPTIONS` when the executable is missing (apt-get install orthanc).
 */
export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancServer> {
  const aet = options.aet ?? 'ORTHANC'
  const dicomPort = options.dicomPort ?? (await freePort())
  const httpPort = options.httpPort ?? (await freePort())
  const ownStorage = options.storageDir === undefined
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'pacsflow-orthanc-')))
  const config = {
    Name: 'pacsflow-test',
    StorageDirectory: storageDir,
    IndexDirectory: storageDir,
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomAet: aet,
    DicomPort: dicomPort,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomModalities: options.modalities ?? {},
    Plugins: [],
    StableAge: options.stableAge ?? 1,
  }
  const configPath = join(storageDir, 'pacsflow-orthanc.json')
  await writeFile(configPath, JSON.stringify(config, null, 2))
  const child = spawn(options.executable ?? 'Orthanc', [configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)))
  const base = `http://127.0.0.1:${httpPort}`
  const rest = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`Orthanc ${path}: HTTP ${response.status} ${await response.text()}`)
    return (await response.json()) as T
  }
  const stop = async (stopOptions: { readonly keepStorage?: boolean } = {}): Promise<void> => {
    await terminate(child)
    if (ownStorage && stopOptions.keepStorage !== true) await rm(storageDir, { recursive: true, force: true })
  }
  await waitUntilUp(child, rest, options.startTimeoutMs ?? 20_000, () => log)
  return { aet, host: '127.0.0.1', dicomPort, httpPort, storageDir, rest, stop }
}

async function waitUntilUp(
  child: ChildProcess,
  rest: (path: string) => Promise<unknown>,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  let spawnError: Error | undefined
  child.once('error', (error) => (spawnError = error))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (spawnError !== undefined) {
      throw new PacsflowError('INVALID_OPTIONS', `Orthanc could not be started (apt-get install orthanc): ${spawnError.message}`, {
        cause: spawnError,
      })
    }
    if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode}: ${log()}`)
    try {
      await rest('/system')
      return
    } catch {
      if (Date.now() > deadline) {
        await terminate(child)
        throw new Error(`Orthanc did not answer within ${timeoutMs} ms: ${log()}`)
      }
      await sleep(100)
    }
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
